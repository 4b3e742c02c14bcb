// Package report holds how the tool's commands print what they found:
// psql's aligned tables and counted nouns.
package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table writes rows as psql's aligned format does: centred
// headers, right-aligned numeric columns, and a "(N rows)" footer.
func Table(w io.Writer, headers []string, numeric map[int]bool, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string, align func(i int, c string) string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(" " + align(i, c) + " ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(headers, func(i int, c string) string {
		pad := widths[i] - utf8.RuneCountInString(c)
		return strings.Repeat(" ", pad/2) + c + strings.Repeat(" ", pad-pad/2)
	})
	var sep []string
	for _, wd := range widths {
		sep = append(sep, strings.Repeat("-", wd+2))
	}
	fmt.Fprintln(w, strings.Join(sep, "+"))
	for _, row := range rows {
		line(row, func(i int, c string) string {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if numeric[i] {
				return pad + c
			}
			return c + pad
		})
	}
	if len(rows) == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(rows))
	}
}

// Plural counts n of a noun: "1 record", "2 records".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
