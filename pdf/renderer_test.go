package pdf_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/remit/remit/pdf"
)

func TestRendererCachesByContent(t *testing.T) {
	r := pdf.NewRenderer(2)
	inv := sampleInvoice(5)
	first, err := r.Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	first[0] = 'X' // a caller's copy; the cache keeps its own
	again, err := r.Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	uncached, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, uncached) {
		t.Fatal("the cached invoice differs from a fresh render")
	}
	if n := r.Len(); n != 1 {
		t.Fatalf("the cache holds %d documents, want 1", n)
	}

	// A change anywhere in the content, a date included, is a new document.
	later := sampleInvoice(5)
	later.DueDate = day("2026-02-28")
	moved, err := r.Invoice(later)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(moved, again) {
		t.Fatal("an invoice with another due date came back from the cache")
	}
	mustContain(t, text(t, moved), "Due date 28 February 2026")

	// The cache is bounded: a third document pushes out the least recent.
	if _, err := r.Statement(sampleStatement()); err != nil {
		t.Fatal(err)
	}
	if n := r.Len(); n != 2 {
		t.Fatalf("the cache holds %d documents, want its bound 2", n)
	}
}

func TestRendererIsSafeForConcurrentUse(t *testing.T) {
	r := pdf.NewRenderer(4)
	want, err := pdf.NewRenderer(0).Invoice(sampleInvoice(8))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([][]byte, 16)
	errs := make([]error, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				got[i], errs[i] = r.Invoice(sampleInvoice(8))
			} else {
				_, errs[i] = r.Statement(sampleStatement())
				got[i] = want
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("render %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], want) {
			t.Fatalf("render %d differs", i)
		}
	}
	if n := r.Len(); n != 2 {
		t.Fatalf("the cache holds %d documents, want 2", n)
	}
}
