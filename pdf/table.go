package pdf

// column describes one column of a table. Tables are declared once as
// package-level values; each use sizes a copy to its content (sized).
type column struct {
	title string  // a catalogue key ("pdf.col.amount"), printed in the document's language
	width float64 // millimetres: the least width; sized widens it to its content
	align string  // "L" or "R"
	wrap  bool    // wrap long text instead of shortening it
	flex  bool    // takes the width the other columns leave (one per table)
}

// minFlex is the least width a flexible column keeps when the others need
// more room than the page has; they then fall back to their content width.
const minFlex = 24.0

const (
	rowPad   = 1.4 // vertical padding of a table row
	headRowH = 6.5
)

// table writes rows under a header that it repeats at the top of every page
// the table flows onto.
type table struct {
	d      *document
	cols   []column
	titles []string // overrides of column titles (catalogue keys); "" keeps the column's own
}

// table starts a table with its header, on a new page unless the header and
// one row fit on this one. Its columns are sized to the rows it will show
// and, in the last column, to the figure of its total row ("" for none).
func (d *document) table(cols []column, rows [][]string, total string, titles ...string) *table {
	t := &table{d: d, cols: d.sized(cols, rows, total, titles), titles: titles}
	d.ensure(headRowH + lineBody + 2*rowPad)
	t.header()
	return t
}

// sized returns the columns with widths that show every cell whole: each
// column that neither wraps nor flexes is as wide as its widest cell, its
// title or (the last column) the total figure, and at least its declared
// width; the flexible column takes the rest of the content width. When that
// leaves the flexible column under minFlex or narrower than its widest
// cell (a wrapping column excepted), the others shrink back to their
// content width.
func (d *document) sized(cols []column, rows [][]string, total string, titles []string) []column {
	out := make([]column, len(cols))
	copy(out, cols)
	need := make([]float64, len(cols))
	for i, c := range cols {
		title := c.title
		if i < len(titles) && titles[i] != "" {
			title = titles[i]
		}
		d.font(bold, sizeSmall+0.5, colourMuted)
		need[i] = d.f.GetStringWidth(clean(d.t(title)))
		if c.wrap {
			continue
		}
		// A flexible column's cells count too: when the others leave too
		// little room for them, the others shrink to their content.
		d.font(regular, sizeBody, colourInk)
		for _, r := range rows {
			if i < len(r) {
				need[i] = max(need[i], d.f.GetStringWidth(clean(r[i])))
			}
		}
		if i == len(cols)-1 && total != "" {
			d.font(bold, sizeBody, colourInk)
			need[i] = max(need[i], d.f.GetStringWidth(clean(total)))
		}
		need[i] += 2*cellPad + 0.5
	}
	flexAt := -1
	for i, c := range cols {
		if c.flex {
			flexAt = i
		}
	}
	if flexAt < 0 {
		return out
	}
	fill := func(floor bool) float64 {
		rest := contentW
		for i := range out {
			if i == flexAt {
				continue
			}
			if !cols[i].wrap {
				out[i].width = need[i]
				if floor {
					out[i].width = max(cols[i].width, need[i])
				}
			}
			rest -= out[i].width
		}
		return rest
	}
	rest := fill(true)
	if rest < max(minFlex, need[flexAt]+2*cellPad) {
		rest = fill(false)
	}
	out[flexAt].width = max(rest, 0)
	return out
}

func (t *table) header() {
	d, f := t.d, t.d.f
	y := f.GetY()
	d.fill(colourShade)
	f.Rect(marginX, y, contentW, headRowH, "F")
	d.font(bold, sizeSmall+0.5, colourMuted)
	x := marginX
	for i, c := range t.cols {
		title := c.title
		if i < len(t.titles) && t.titles[i] != "" {
			title = t.titles[i]
		}
		f.SetXY(x, y)
		f.CellFormat(c.width, headRowH, d.fit(d.t(title), c.width), "", 0, c.align, false, 0, "")
		x += c.width
	}
	f.SetY(y + headRowH)
}

// rowStyle is how a row is drawn.
type rowStyle struct {
	muted bool // greyed out, for waived charges
}

// row writes one row; text in wrap columns wraps, other text is shortened to fit.
func (t *table) row(cells ...string) { t.styled(rowStyle{}, cells...) }

func (t *table) styled(st rowStyle, cells ...string) {
	d, f := t.d, t.d.f
	style, colour := regular, colourInk
	if st.muted {
		colour = colourMuted
	}
	d.font(style, sizeBody, colour)

	// Lay the row out first so that it moves to the next page whole.
	var wrapped [8][]string // tables have at most 8 columns
	n := 1
	for i, c := range t.cols {
		if i >= len(cells) {
			break
		}
		if c.wrap {
			wrapped[i] = d.wrap(cells[i], c.width)
			if len(wrapped[i]) == 0 {
				wrapped[i] = []string{""}
			}
		} else {
			wrapped[i] = []string{d.fit(cells[i], c.width)}
		}
		n = max(n, len(wrapped[i]))
	}
	h := float64(n)*lineBody + 2*rowPad
	if d.ensure(h + d.takeKeep()) {
		t.header()
		d.font(style, sizeBody, colour)
	}
	y := f.GetY()
	x := marginX
	for i, c := range t.cols {
		for k, l := range wrapped[i] {
			f.SetXY(x, y+rowPad+float64(k)*lineBody)
			f.CellFormat(c.width, lineBody, l, "", 0, c.align, false, 0, "")
		}
		x += c.width
	}
	d.rule(y+h, colourRule, 0.2)
	f.SetY(y + h)
}

// total writes a shaded closing row: the label across every column but the
// last, the figure in the last.
func (t *table) total(label, figure string) {
	d, f := t.d, t.d.f
	h := lineBody + 2*rowPad
	if d.ensure(h + d.takeKeep()) {
		t.header()
	}
	last := t.cols[len(t.cols)-1]
	y := f.GetY()
	d.fill(colourShade)
	f.Rect(marginX, y, contentW, h, "F")
	d.font(bold, sizeBody, colourInk)
	f.SetXY(marginX, y+rowPad)
	f.CellFormat(contentW-last.width, lineBody, d.fit(label, contentW-last.width), "", 0, "L", false, 0, "")
	f.SetXY(rightEdge-last.width, y+rowPad)
	f.CellFormat(last.width, lineBody, d.fit(figure, last.width), "", 0, "R", false, 0, "")
	f.SetY(y + h)
}
