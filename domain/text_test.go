package domain_test

import (
	"testing"

	"github.com/remit/remit/domain"
)

func TestTextProblem(t *testing.T) {
	for _, tc := range []struct {
		s         string
		multiline bool
		ok        bool
	}{
		{"Acme GmbH", false, true},
		{"Łódź 東京 Олег 🙂", false, true},
		{"", false, true},
		{"A\x00B", false, false},
		{"A\x00B", true, false},
		{"A\tB", false, false},
		{"A\tB", true, true},
		{"line 1\nline 2\r\n", true, true},
		{"line 1\nline 2", false, false},
		{"\x1b[31mred", true, false},
		{"bell\x07", true, false},
		{"del\x7f", true, false},
		{"next line\u0085", true, false},
		{"A\xffB", true, false},
		{"\xed\xa0\x80", true, false}, // a UTF-16 surrogate encoded as UTF-8
	} {
		if got := domain.TextProblem(tc.s, tc.multiline); (got == "") != tc.ok {
			t.Errorf("TextProblem(%q, %t) = %q, want ok=%t", tc.s, tc.multiline, got, tc.ok)
		}
	}
}
