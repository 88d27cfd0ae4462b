package pdf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// Page geometry in millimetres (A4 portrait).
const (
	pageW      = 210.0
	pageH      = 297.0
	marginX    = 18.0
	contentW   = pageW - 2*marginX
	rightEdge  = pageW - marginX
	headerTop  = 14.0
	bodyTop    = 33.0        // first line of content below the repeated header
	bodyBottom = pageH - 20. // content stops here; the footer lives below
	footerY    = pageH - 13.
	cellPad    = 1.5 // horizontal padding inside table cells
)

// The two faces embedded in every document. Only regular and bold: each face
// costs a full TrueType parse and a subset per document.
const (
	family  = "go"
	regular = ""
	bold    = "B"
)

// Font sizes in points and the line heights (mm) that go with them.
const (
	sizeBody  = 9.0
	lineBody  = 4.3
	sizeSmall = 7.5
	lineSmall = 3.6
)

type rgb struct{ r, g, b int }

var (
	colourInk    = rgb{33, 37, 41}
	colourMuted  = rgb{108, 117, 125}
	colourAccent = rgb{31, 78, 121}
	colourRule   = rgb{206, 212, 218}
	colourShade  = rgb{241, 243, 245}
	colourWhite  = rgb{255, 255, 255}
	colourLink   = rgb{13, 87, 180}
)

// stamp is the mark a document carries when it is not a plain open one.
type stamp struct {
	text   string // in the document's language (pdf.stamp.<status>)
	colour rgb    // the boxed label next to the title
	faint  rgb    // the diagonal watermark behind the content
}

// stamps maps an invoice status to the colours of its mark; statuses without
// one (open) are absent.
var stamps = map[string]stamp{
	"draft":         {"", rgb{108, 117, 125}, rgb{236, 238, 240}},
	"void":          {"", rgb{176, 42, 55}, rgb{248, 226, 228}},
	"paid":          {"", rgb{25, 135, 84}, rgb{222, 242, 230}},
	"uncollectible": {"", rgb{176, 42, 55}, rgb{248, 226, 228}},
}

// stampFor returns the mark of an invoice status in l's words, or nil.
func stampFor(status string, l *i18n.Locale) *stamp {
	s, ok := stamps[status]
	if !ok {
		return nil
	}
	s.text = l.T("pdf.stamp." + status)
	return &s
}

// documentInfo is what the page furniture of a document shows, in the
// language of loc.
type documentInfo struct {
	loc      *i18n.Locale
	kind     string // "Invoice", "Statement of account", ...
	title    string // the large title in the header: "INVOICE"
	number   string // shown under the title, may be empty
	business Business
	currency string
	date     domain.Date // creation date of the PDF file
	stamp    *stamp
}

// document is one gofpdf document with Remit's page furniture: the header
// repeated on every page, the stamp, and "n / N" page numbers.
type document struct {
	f    *gofpdf.Fpdf
	info documentInfo
	loc  *i18n.Locale
	// symbol is how money in the document's currency is marked: the
	// language's symbol, or a written form when the fonts lack its glyph;
	// unsigned puts that written form in the text given to the document
	// (terms and charges that print the language's symbol), nil when the
	// fonts draw the symbol.
	symbol   string
	unsigned *strings.Replacer
	// keep is the height (mm) the next block keeps free under its last
	// line, so that what follows it (the sign-off) never opens a page alone.
	keep float64
}

// fixedTime turns a document date into the PDF's creation date so that the
// same input gives the same bytes. A zero date gives a fixed epoch.
func fixedTime(d domain.Date) time.Time {
	if d.IsZero() {
		return time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	return d.Midnight(time.UTC)
}

func newDocument(info documentInfo) *document {
	f := gofpdf.New("P", "mm", "A4", "")
	created := fixedTime(info.date)
	f.SetCreationDate(created)
	f.SetModificationDate(created)
	f.SetCatalogSort(true)
	f.SetProducer("Remit", false)
	f.SetCreator("Remit", false)
	f.SetTitle(strings.TrimSpace(info.kind+" "+info.number), true)
	f.SetAuthor(info.business.Name, true)
	// gofpdf writes into the font bytes it is given (generateChecksum pads
	// a table in place, over the bytes after it), so each document gets its
	// own copy: sharing x/image's slices would race between documents.
	f.AddUTF8FontFromBytes(family, regular, bytes.Clone(goregular.TTF))
	f.AddUTF8FontFromBytes(family, bold, bytes.Clone(gobold.TTF))
	f.SetMargins(marginX, bodyTop, marginX)
	f.SetAutoPageBreak(false, 0)
	f.SetCellMargin(cellPad)
	if info.loc == nil {
		info.loc = i18n.For("")
	}
	d := &document{f: f, info: info, loc: info.loc, symbol: currencySymbol(info.loc, info.currency)}
	if sym := info.loc.Symbol(info.currency); sym != d.symbol {
		d.unsigned = strings.NewReplacer(sym, d.symbol)
	}
	f.SetHeaderFuncMode(d.header, true)
	f.AddPage()
	return d
}

// clean makes s safe to print on one line: gofpdf's UTF-8 support stops at
// the Basic Multilingual Plane, and control characters would print as boxes.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r > 0xFFFF || unicode.IsControl(r) || r == utf8.RuneError {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r > 0xFFFF:
			return '\uFFFD'
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// clean is clean(s) with the currency's symbol written out where the fonts
// lack it.
func (d *document) clean(s string) string {
	if d.unsigned != nil {
		s = d.unsigned.Replace(s)
	}
	return clean(s)
}

// lines splits multi-line input (an address) into cleaned, non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(clean(l)); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (d *document) font(style string, size float64, c rgb) {
	d.f.SetFont(family, style, size)
	d.f.SetTextColor(c.r, c.g, c.b)
}

func (d *document) fill(c rgb) { d.f.SetFillColor(c.r, c.g, c.b) }

func (d *document) rule(y float64, c rgb, width float64) {
	d.f.SetDrawColor(c.r, c.g, c.b)
	d.f.SetLineWidth(width)
	d.f.Line(marginX, y, rightEdge, y)
}

// header draws the band repeated at the top of every page: who sends the
// document and what it is. gofpdf calls it from AddPage.
func (d *document) header() {
	f := d.f
	if st := d.info.stamp; st != nil {
		d.watermark(st)
	}
	d.font(bold, 14, colourInk)
	f.SetXY(marginX, headerTop)
	f.CellFormat(contentW*0.6, 6, d.fit(d.info.business.Name, contentW*0.6), "", 0, "L", false, 0, "")
	d.font(regular, sizeSmall, colourMuted)
	y := headerTop + 6.5
	contact := lines(d.info.business.Address)
	if e := clean(d.info.business.Email); e != "" {
		contact = append(contact, e)
	}
	if t := clean(d.info.business.TaxID); t != "" {
		contact = append(contact, d.t("pdf.vat_id", "id", t))
	}
	if len(contact) > 0 {
		// The line takes what the number beside it leaves (the title is on
		// the line above): some languages' labels ("USt-IdNr.") are longer
		// than the English.
		w := contentW
		if d.info.number != "" {
			d.font(regular, sizeBody, colourInk)
			w = contentW - d.f.GetStringWidth(d.info.number) - 2*cellPad - 4
			d.font(regular, sizeSmall, colourMuted)
		}
		f.SetXY(marginX, y)
		f.CellFormat(w, lineSmall, d.fit(strings.Join(contact, " · "), w), "", 0, "L", false, 0, "")
	}

	d.font(bold, 16, colourAccent)
	// Some languages' titles are long (КОРРЕКТИРОВОЧНЫЙ СЧЁТ): shrink to fit.
	if w, avail := f.GetStringWidth(d.info.title), contentW*0.4-2*cellPad; w > avail {
		d.font(bold, 16*avail/w, colourAccent)
	}
	f.SetXY(rightEdge-contentW*0.4, headerTop-0.5)
	f.CellFormat(contentW*0.4, 7, d.info.title, "", 0, "R", false, 0, "")
	if d.info.number != "" {
		d.font(regular, sizeBody, colourInk)
		f.SetXY(rightEdge-contentW*0.4, y)
		f.CellFormat(contentW*0.4, lineSmall, d.fit(d.info.number, contentW*0.4), "", 0, "R", false, 0, "")
	}
	d.rule(headerTop+12, colourAccent, 0.5)
	d.font(regular, sizeBody, colourInk)
}

// watermark writes the stamp large and faint across the page, behind the content.
func (d *document) watermark(st *stamp) {
	f := d.f
	d.font(bold, 110, st.faint)
	// Shrink long words (UNCOLLECTIBLE) to fit the page diagonal.
	if w := f.GetStringWidth(st.text); w > 190 {
		d.font(bold, 110*190/w, st.faint)
	}
	w := f.GetStringWidth(st.text)
	cx, cy := pageW/2, pageH/2
	f.TransformBegin()
	f.TransformRotate(40, cx, cy)
	f.Text(cx-w/2, cy+12, st.text)
	f.TransformEnd()
}

// badge draws the stamp as a boxed label ending at x on the line at y.
func (d *document) badge(st *stamp, x, y float64) {
	f := d.f
	d.font(bold, 10, st.colour)
	w := f.GetStringWidth(st.text) + 6
	f.SetDrawColor(st.colour.r, st.colour.g, st.colour.b)
	f.SetLineWidth(0.6)
	f.SetXY(x-w, y)
	f.CellFormat(w, 7, st.text, "1", 0, "C", false, 0, "")
}

// finish writes the footer on every page, now that the page count is known,
// and returns the PDF. Drawing footers last, instead of using gofpdf's
// "{nb}" alias, keeps right-aligned numbers exact and their digits in the
// font subset.
func (d *document) finish() ([]byte, error) {
	f := d.f
	n := f.PageCount()
	left := d.info.business.Name
	if t := strings.TrimSpace(d.info.kind + " " + d.info.number); t != "" {
		if left != "" {
			left += " · "
		}
		left += t
	}
	left = clean(left)
	for p := 1; p <= n; p++ {
		f.SetPage(p)
		// gofpdf only writes a font or colour when it changes, and this
		// page's stream ends in whatever it last used: set a different font
		// first so the change is written, and the fill colour outright.
		f.SetFont(family, bold, sizeSmall)
		d.font(regular, sizeSmall, colourMuted)
		d.fill(colourWhite)
		d.rule(footerY-2, colourRule, 0.2)
		f.SetXY(marginX, footerY)
		f.CellFormat(contentW-30, lineSmall, d.fit(left, contentW-30), "", 0, "L", false, 0, "")
		f.SetXY(rightEdge-30, footerY)
		page := d.t("pdf.page", "page", strconv.Itoa(p), "pages", strconv.Itoa(n))
		f.CellFormat(30, lineSmall, page, "", 0, "R", false, 0, "")
	}
	var buf bytes.Buffer
	buf.Grow(48 << 10)
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: render %s: %w", strings.ToLower(d.info.kind), err)
	}
	return buf.Bytes(), nil
}

// ensure starts a new page unless h millimetres fit above the footer, and
// reports whether it did.
func (d *document) ensure(h float64) bool {
	if d.f.GetY()+h <= bodyBottom {
		return false
	}
	d.f.AddPage()
	d.f.SetXY(marginX, bodyTop)
	return true
}

// fit shortens s with an ellipsis so that it fits in a cell w wide in the current font.
func (d *document) fit(s string, w float64) string {
	s = d.clean(s)
	avail := w - 2*cellPad
	if d.f.GetStringWidth(s) <= avail {
		return s
	}
	// Binary search for the longest prefix that fits with the ellipsis.
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if d.f.GetStringWidth(string(r[:mid])+"…") <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRight(string(r[:lo]), " ") + "…"
}

// wrap splits s into lines no wider than w in the current font, keeping the
// line breaks the text already has.
func (d *document) wrap(s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		para = d.clean(para)
		if strings.TrimSpace(para) == "" {
			continue
		}
		out = append(out, d.f.SplitText(para, w)...)
	}
	return out
}

// t returns the catalogue's message key in the document's language.
func (d *document) t(key string, pairs ...string) string { return d.loc.T(key, pairs...) }

// money formats minor units in the document's currency, in the one style
// every document uses, the catalogue's "pdf.money": the amount, then the
// ISO code in English ("1,000.00 EUR", "−400.00 EUR", as in the terms), the
// symbol in the other languages ("1.000,00 €", "70 296,22 руб.").
func (d *document) money(minor int64) string {
	amount, neg := strings.CutPrefix(d.loc.Amount(minor, d.info.currency), "-")
	s := d.t("pdf.money", "amount", amount, "symbol", d.symbol, "code", d.info.currency)
	if neg {
		return "−" + s
	}
	return s
}

// amount formats minor units without the code, for table columns: the
// document names its currency once, beside its date.
func (d *document) amount(minor int64) string {
	s := d.loc.Amount(minor, d.info.currency)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return "−" + rest
	}
	return s
}

// date prints a calendar date in the document's language ("31 January
// 2026", "31. Januar 2026", "31 января 2026 г."), or a dash when there is none.
func (d *document) date(day domain.Date) string {
	if day.IsZero() {
		return "—"
	}
	return d.loc.Date(day)
}

// cellDate prints a date in a table cell: as in prose in English ("31
// January 2026"), in figures where that is the custom ("31.01.2026"), so
// that the columns leave room for the description; a dash when there is none.
func (d *document) cellDate(day domain.Date) string {
	if day.IsZero() {
		return "—"
	}
	return d.t("pdf.date.cell", "long", d.loc.Date(day), "dd", fmt.Sprintf("%02d", day.Day()),
		"mm", fmt.Sprintf("%02d", int(day.Month())), "yyyy", strconv.Itoa(day.Year()))
}

// decimal prints a decimal string (a quantity, a rate) with the language's mark.
func (d *document) decimal(s string) string { return d.loc.Decimal(s) }

// currencySymbol is how l marks money in cur on a document: the symbol of
// the language when the fonts can draw it, else the catalogue's written
// form ("pdf.symbol.RUB": "руб." where the Go fonts lack ₽), else the code.
func currencySymbol(l *i18n.Locale, cur string) string {
	sym := l.Symbol(cur)
	if drawable(sym) {
		return sym
	}
	if s, ok := l.Keys()["pdf.symbol."+cur]; ok {
		return s
	}
	return cur
}

// goFont is the regular Go font's character map, parsed once for drawable.
var goFont = sync.OnceValues(func() (*sfnt.Font, error) { return sfnt.Parse(goregular.TTF) })

// drawable reports whether the Go fonts have a glyph for every rune of s.
func drawable(s string) bool {
	f, err := goFont()
	if err != nil {
		return false
	}
	var b sfnt.Buffer
	for _, r := range s {
		if i, err := f.GlyphIndex(&b, r); err != nil || i == 0 {
			return false
		}
	}
	return true
}

// keepWithNext makes the next block (a paragraph, a table row or total)
// keep h mm free under its last line, moving to a new page with it if not.
func (d *document) keepWithNext(h float64) { d.keep = h }

// takeKeep returns the height to keep under the block being written, once.
func (d *document) takeKeep() float64 {
	k := d.keep
	d.keep = 0
	return k
}

// heading writes a section title, keeping room for at least `keep` mm under it.
func (d *document) heading(text string, keep float64) {
	d.f.SetY(d.f.GetY() + 4)
	d.ensure(7 + keep)
	d.font(bold, 10.5, colourAccent)
	d.f.SetX(marginX)
	d.f.CellFormat(contentW, 6, clean(text), "", 1, "L", false, 0, "")
	d.f.SetY(d.f.GetY() + 1)
}

// paragraph writes wrapped prose across the content width, flowing onto
// new pages as needed.
func (d *document) paragraph(text string, style string, size, lineH float64, c rgb) {
	d.indented(text, "", style, size, lineH, c)
}

// indented writes wrapped prose after a prefix such as a bullet; the
// continuation lines align with the text, not the prefix.
func (d *document) indented(text, prefix, style string, size, lineH float64, c rgb) {
	f := d.f
	d.font(style, size, c)
	indent := 0.0
	if prefix != "" {
		indent = 5
	}
	ls := d.wrap(text, contentW-indent)
	keep := d.takeKeep()
	// Keep a short paragraph whole, and with what it must keep under it; a
	// long one flows from page to page, its last line with what follows.
	if h := float64(len(ls)) * lineH; h <= 6*lineH {
		d.ensure(h + keep)
	}
	for i, l := range ls {
		if i == len(ls)-1 {
			d.ensure(lineH + keep)
		} else {
			d.ensure(lineH)
		}
		d.font(style, size, c)
		y := f.GetY()
		if i == 0 && prefix != "" {
			f.SetXY(marginX, y)
			f.CellFormat(indent, lineH, prefix, "", 0, "L", false, 0, "")
		}
		f.SetXY(marginX+indent, y)
		f.CellFormat(contentW-indent, lineH, l, "", 1, "L", false, 0, "")
	}
	if prefix != "" {
		f.SetY(f.GetY() + 1) // list items sit closer than paragraphs
	} else {
		f.SetY(f.GetY() + 1.5)
	}
}

// party writes the client's address block under a label at x, y in a column
// w wide (name in bold, then contact, address, email and tax ID) and returns
// the y under it.
func (d *document) party(label string, p Party, x, y, w float64) float64 {
	f := d.f
	var rest []string
	if c := clean(p.ContactName); c != "" {
		rest = append(rest, d.t("pdf.attn", "name", c))
	}
	rest = append(rest, lines(p.Address)...)
	if e := clean(p.Email); e != "" {
		rest = append(rest, e)
	}
	if t := clean(p.TaxID); t != "" {
		rest = append(rest, d.t("pdf.tax_id", "id", t))
	}
	d.font(bold, sizeSmall, colourMuted)
	f.SetXY(x, y)
	f.CellFormat(w, lineSmall, label, "", 0, "L", false, 0, "")
	y += lineSmall + 0.8
	d.font(bold, 10.5, colourInk)
	for _, l := range d.wrap(p.Name, w) {
		f.SetXY(x, y)
		f.CellFormat(w, 5, l, "", 0, "L", false, 0, "")
		y += 5
	}
	d.font(regular, sizeBody, colourInk)
	for _, r := range rest {
		for _, l := range d.wrap(r, w) {
			f.SetXY(x, y)
			f.CellFormat(w, lineBody, l, "", 0, "L", false, 0, "")
			y += lineBody
		}
	}
	return y
}

// keyValues writes label/value pairs right-aligned in a column at x, y, w
// wide, and returns the y under them.
func (d *document) keyValues(pairs [][2]string, x, y, w float64) float64 {
	f := d.f
	labelW := w * 0.45
	for _, p := range pairs {
		d.font(regular, sizeBody, colourMuted)
		f.SetXY(x, y)
		f.CellFormat(labelW, lineBody+0.6, p[0], "", 0, "L", false, 0, "")
		d.font(bold, sizeBody, colourInk)
		f.SetXY(x+labelW, y)
		f.CellFormat(w-labelW, lineBody+0.6, d.fit(p[1], w-labelW), "", 0, "R", false, 0, "")
		y += lineBody + 0.6
	}
	return y
}

// highlight draws a filled box with a label on the left and a large figure
// on the right, used for the balance and total due.
func (d *document) highlight(label, figure string, x, y, w float64) float64 {
	f := d.f
	d.fill(colourAccent)
	f.Rect(x, y, w, 10, "F")
	d.font(bold, 9.5, colourWhite)
	f.SetXY(x, y)
	f.CellFormat(w*0.45, 10, label, "", 0, "L", false, 0, "")
	d.font(bold, 13, colourWhite)
	f.SetXY(x+w*0.45, y)
	f.CellFormat(w*0.55, 10, d.fit(figure, w*0.55), "", 0, "R", false, 0, "")
	return y + 10
}

// bullets writes a list; the last item never stands alone on a page (the
// one before it moves with it), and it keeps `after` mm free under it.
func (d *document) bullets(items []string, size, lineH, after float64) {
	for i, item := range items {
		switch i {
		case len(items) - 2:
			d.font(regular, size, colourInk)
			last := float64(len(d.wrap(items[i+1], contentW-5)))*lineH + 1
			d.keepWithNext(last + after)
		case len(items) - 1:
			d.keepWithNext(after)
		}
		d.indented(item, "•", regular, size, lineH, colourInk)
	}
}

// signatureHeight is the height signature takes, the gap above it included.
func (d *document) signatureHeight() float64 {
	h := 4 + 2*(lineBody+0.4+1.5) + 6
	if clean(d.info.business.Email) != "" {
		h += lineBody + 1.5
	}
	return h
}

// signature closes a letter with the business's name. The block before it
// keeps it on its page (keepWithNext), so the sign-off never opens a page.
func (d *document) signature(closing string) {
	f := d.f
	f.SetY(f.GetY() + 4)
	d.ensure(d.signatureHeight() - 4)
	d.paragraph(closing, regular, sizeBody+0.5, lineBody+0.4, colourInk)
	f.SetY(f.GetY() + 6)
	d.paragraph(d.info.business.Name, bold, sizeBody+0.5, lineBody+0.4, colourInk)
	if e := clean(d.info.business.Email); e != "" {
		d.paragraph(e, regular, sizeBody, lineBody, colourMuted)
	}
}
