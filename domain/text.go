package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextProblem says what keeps s from being text a field may hold, or ""
// when nothing does: it must be valid UTF-8 without NUL or other control
// characters; a multi-line field (a description, memo, note or reason) may
// also hold tabs and line breaks. PostgreSQL refuses NUL in text, and
// control characters would corrupt documents, e-mails and logs.
func TextProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return "must not contain NUL characters"
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsControl(r) && multiline:
			return "must not contain control characters other than tab and line breaks"
		case unicode.IsControl(r):
			return "must be one line of text without tabs or control characters"
		}
	}
	return ""
}

// checkText records a problem with a one-line text field (a name, an
// e-mail address, a reference) in f: required and blank, not text, or
// longer than max characters.
func checkText(f FieldErrors, field, s string, max int, required bool) {
	checkTextOf(f, field, s, max, required, false)
}

// checkLines is checkText for a multi-line field (descriptions, memos,
// notes, reasons, addresses), which may hold tabs and line breaks.
func checkLines(f FieldErrors, field, s string, max int, required bool) {
	checkTextOf(f, field, s, max, required, true)
}

func checkTextOf(f FieldErrors, field, s string, max int, required, multiline bool) {
	if p := TextProblem(s, multiline); p != "" {
		f.Add(field, "%s", p)
		return
	}
	switch {
	case required && strings.TrimSpace(s) == "":
		f.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		f.Add(field, "must be at most %d characters", max)
	}
}
