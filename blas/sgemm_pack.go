package blas

import "unsafe"

// packA packs rows [i0,i0+mc) × columns [p0,p0+kc) of op(A) into dst as
// mr-row panels: panel q (rows i0+q·mr…) holds element (r, p) at
// dst[q·mr·kc + p·mr + r]; rows past mc are zero.
func packA(aT bool, a []float32, lda, i0, mc, p0, kc int, dst []float32) {
	for q := 0; q < mc; q += mr {
		mm := min(mr, mc-q)
		d := dst[q*kc : q*kc+mr*kc]
		switch {
		case aT: // op(A)(i, p) = a[p*lda+i]
			for p := 0; p < kc; p++ {
				dd := (*[mr]float32)(d[p*mr:])
				if mm == mr {
					s := (*[mr]float32)(a[(p0+p)*lda+i0+q:])
					*dd = *s
					continue
				}
				s := a[(p0+p)*lda+i0+q:][:mm]
				copy(dd[:], s)
				clear(dd[mm:])
			}
		case mm == mr: // op(A)(i, p) = a[i*lda+p]
			base := (i0+q)*lda + p0
			s0 := a[base:][:kc]
			s1 := a[base+lda:][:kc]
			s2 := a[base+2*lda:][:kc]
			s3 := a[base+3*lda:][:kc]
			s4 := a[base+4*lda:][:kc]
			s5 := a[base+5*lda:][:kc]
			for p := range s0 {
				dd := (*[mr]float32)(d[p*mr:])
				dd[0], dd[1], dd[2], dd[3], dd[4], dd[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
			}
		default:
			clear(d)
			for r := 0; r < mm; r++ {
				s := a[(i0+q+r)*lda+p0:][:kc]
				for p, v := range s {
					d[p*mr+r] = v
				}
			}
		}
	}
}

// packB packs rows [p0,p0+kc) × columns [j0,j0+nc) of op(B) into dst as
// nr-column panels: panel q (columns j0+q·nr…) holds element (p, j) at
// dst[q·nr·kc + p·nr + j]; columns past nc are zero.
func packB(bT bool, b []float32, ldb, p0, kc, j0, nc, nr int, dst []float32) {
	for q := 0; q < nc; q += nr {
		nn := min(nr, nc-q)
		d := dst[q*kc : q*kc+nr*kc]
		switch {
		case !bT: // op(B)(p, j) = b[p*ldb+j]
			for p := 0; p < kc; p++ {
				dd := d[p*nr : p*nr+nr]
				copy(dd, b[(p0+p)*ldb+j0+q:][:nn])
				clear(dd[nn:])
			}
		case nn == nr: // op(B)(p, j) = b[j*ldb+p]
			var all [nrMax][]float32
			rows := all[:nr]
			for j := range rows {
				rows[j] = b[(j0+q+j)*ldb+p0:][:kc]
			}
			p := 0
			for ; p+8 <= kc; p += 8 {
				dd := d[p*nr : p*nr+8*nr]
				for j, row := range rows {
					s := (*[8]float32)(row[p:])
					dd[j], dd[nr+j], dd[2*nr+j], dd[3*nr+j] = s[0], s[1], s[2], s[3]
					dd[4*nr+j], dd[5*nr+j], dd[6*nr+j], dd[7*nr+j] = s[4], s[5], s[6], s[7]
				}
			}
			for ; p < kc; p++ {
				dd := d[p*nr : p*nr+nr]
				for j := range dd {
					dd[j] = rows[j][p]
				}
			}
		default:
			clear(d)
			for j := 0; j < nn; j++ {
				s := b[(j0+q+j)*ldb+p0:][:kc]
				for p, v := range s {
					d[p*nr+j] = v
				}
			}
		}
	}
}

// nrGo is kernelGo's tile width.
const nrGo = 16

// kernelGo is the portable micro-kernel (mr×nrGo); see microKernel. It sweeps
// k once per 2×4 block of the tile so that the eight sums stay in registers.
func kernelGo(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int) {
	const nr = nrGo
	as := unsafe.Slice(a, (kc-1)*pa+(mr-1)*ra+1)
	bs := unsafe.Slice(b, (kc-1)*ldb+nr)
	var acc [mr][nr]float32
	for r := 0; r < mr; r += 2 {
		for j := 0; j < nr; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := range kc {
				bp := (*[4]float32)(bs[p*ldb+j:])
				a0, a1 := as[p*pa+r*ra], as[p*pa+(r+1)*ra]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			acc[r][j], acc[r][j+1], acc[r][j+2], acc[r][j+3] = c00, c01, c02, c03
			acc[r+1][j], acc[r+1][j+1], acc[r+1][j+2], acc[r+1][j+3] = c10, c11, c12, c13
		}
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for r := range acc {
		row := (*[nr]float32)(cs[r*ldc:])
		if flags == 0 {
			for j := range row {
				row[j] = alpha * acc[r][j]
			}
		} else {
			for j := range row {
				row[j] = alpha*acc[r][j] + beta*row[j]
			}
		}
	}
}
