package ui

import (
	"bytes"
	"fmt"
	"html"
)

// Chart geometry, in SVG units.
const (
	chartW, chartH = 600, 160
	padL, padB     = 36, 20
)

// chart draws peaks (one bar per bucket) under a dashed line at seats.
func chart(feature, span string, peaks []int, seats int) []byte {
	top := seats
	for _, p := range peaks {
		top = max(top, p)
	}
	top = max(top, 1)
	plotW, plotH := float64(chartW-padL), float64(chartH-padB-10)
	y := func(v int) float64 { return 10 + plotH - plotH*float64(v)/float64(top) }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s: seats in use over the last %s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(feature), span)
	// Presentation attributes, not a <style> element: the dashboard's
	// content policy allows no inline style.
	b.WriteString(`<g font-family="sans-serif" font-size="11" fill="#555">`)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>`, padL, y(0), chartW, y(0))
	fmt.Fprintf(&b, `<text x="2" y="%.1f">%d</text><text x="2" y="%.1f">0</text>`, y(top)+4, top, y(0))
	if n := len(peaks); n > 0 {
		bw := plotW / float64(n)
		for i, p := range peaks {
			if p == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect fill="#3b82f6" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d</title></rect>`,
				float64(padL)+float64(i)*bw, y(p), max(bw-1, 1), y(0)-y(p), p)
		}
	}
	if seats > 0 {
		fmt.Fprintf(&b, `<line stroke="#dc2626" stroke-dasharray="4 3" x1="%d" y1="%.1f" x2="%d" y2="%.1f"><title>%d seats</title></line>`, padL, y(seats), chartW, y(seats), seats)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">-%s</text><text x="%d" y="%d" text-anchor="end">now</text></g></svg>`,
		padL, chartH-4, span, chartW, chartH-4)
	return b.Bytes()
}
