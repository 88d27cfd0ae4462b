// Package pdf renders Remit's documents: invoices, statements of account
// (usable as demand letters) and notice letters. Input types are plain data
// built by the api layer; the same input always gives the same bytes.
//
// Every document speaks the language of the Locale it is given (the
// client's): its words come from the i18n catalogues ("pdf.*" messages), its
// money, numbers and dates follow the language's formats.
//
// Text is set in the Go fonts (embedded, UTF-8), so Latin, Greek and Cyrillic
// names print as text. The fonts lack the rouble sign (₽): a currency whose
// symbol they cannot draw is written out instead (pdf.symbol.RUB, "руб.").
package pdf

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/remit/remit/i18n"
)

// Renderer renders documents and remembers the most recent ones, so that a
// repeat request for unchanged content costs a hash, not a render. It is safe
// for concurrent use.
type Renderer struct {
	max int

	mu       sync.Mutex
	entries  map[[32]byte]*list.Element // of *entry
	order    *list.List                 // most recently used first
	inFlight map[[32]byte]*call
}

type entry struct {
	key [32]byte
	pdf []byte
}

// call is a render in progress that later requests for the same content wait for.
type call struct {
	done chan struct{}
	pdf  []byte
	err  error
}

// NewRenderer returns a Renderer that keeps up to cacheEntries documents in
// memory; 0 or less disables the cache.
func NewRenderer(cacheEntries int) *Renderer {
	return &Renderer{
		max:      max(cacheEntries, 0),
		entries:  make(map[[32]byte]*list.Element),
		order:    list.New(),
		inFlight: make(map[[32]byte]*call),
	}
}

// Invoice returns the invoice as a PDF. It fails with EINVALID when the
// currency is not an ISO 4217 code.
func (r *Renderer) Invoice(doc Invoice) ([]byte, error) {
	return r.render("invoice", doc.Locale, doc, func() ([]byte, error) { return renderInvoice(doc) })
}

// Statement returns the statement of account as a PDF. It fails with
// EINVALID when the currency is not an ISO 4217 code.
func (r *Renderer) Statement(doc Statement) ([]byte, error) {
	return r.render("statement", doc.Locale, doc, func() ([]byte, error) { return renderStatement(doc) })
}

// Notice returns the notice letter as a PDF. It fails with EINVALID when the
// kind is unknown or the currency is not an ISO 4217 code.
func (r *Renderer) Notice(doc Notice) ([]byte, error) {
	return r.render("notice", doc.Locale, doc, func() ([]byte, error) { return renderNotice(doc) })
}

// Len reports how many documents the cache holds.
func (r *Renderer) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.order.Len()
}

// layoutVersion is part of every cache key; change it with the layout.
const layoutVersion = "remit-pdf-2"

// contentKey identifies a document by its kind, its language and its
// content: the same invoice in another language is another document.
func contentKey(kind string, loc *i18n.Locale, doc any) ([32]byte, error) {
	h := sha256.New()
	h.Write([]byte(layoutVersion + "\x00" + kind + "\x00" + orEnglish(loc).Lang + "\x00"))
	if err := json.NewEncoder(h).Encode(doc); err != nil {
		return [32]byte{}, err
	}
	var k [32]byte
	h.Sum(k[:0])
	return k, nil
}

// render returns a copy of the cached PDF for doc, or renders it once
// however many callers ask for it at the same time.
func (r *Renderer) render(kind string, loc *i18n.Locale, doc any, draw func() ([]byte, error)) ([]byte, error) {
	if r.max == 0 {
		return safely(kind, draw)
	}
	key, err := contentKey(kind, loc, doc)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	if el, ok := r.entries[key]; ok {
		r.order.MoveToFront(el)
		pdf := el.Value.(*entry).pdf
		r.mu.Unlock()
		return clone(pdf), nil
	}
	if c, ok := r.inFlight[key]; ok {
		r.mu.Unlock()
		<-c.done
		return clone(c.pdf), c.err
	}
	c := &call{done: make(chan struct{})}
	r.inFlight[key] = c
	r.mu.Unlock()

	c.pdf, c.err = safely(kind, draw)

	r.mu.Lock()
	delete(r.inFlight, key)
	if c.err == nil {
		r.entries[key] = r.order.PushFront(&entry{key: key, pdf: c.pdf})
		for r.order.Len() > r.max {
			last := r.order.Back()
			r.order.Remove(last)
			delete(r.entries, last.Value.(*entry).key)
		}
	}
	r.mu.Unlock()
	close(c.done)
	return clone(c.pdf), c.err
}

// safely turns a panic inside gofpdf into an error, so that a bad document
// fails its own request and never leaves other callers waiting.
func safely(kind string, draw func() ([]byte, error)) (pdf []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			pdf, err = nil, fmt.Errorf("pdf: render %s: %v", kind, p)
		}
	}()
	return draw()
}

// clone gives each caller its own bytes, so no caller can change the cache.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
