package metrics

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// unit returns v scaled to length 1, or an error for a zero or non-finite
// vector.
func unit(v []float64) ([]float64, error) {
	var s float64
	for _, x := range v {
		s += x * x
	}
	n := math.Sqrt(s)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil, errors.New("zero or non-finite embedding")
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / n
	}
	return out, nil
}

// normalized checks that every embedding has the same length and returns
// unit copies.
func normalized(emb [][]float64) ([][]float64, error) {
	out := make([][]float64, len(emb))
	for i, e := range emb {
		if len(e) == 0 || len(e) != len(emb[0]) {
			return nil, fmt.Errorf("embedding %d has %d dimensions, embedding 0 has %d", i, len(e), len(emb[0]))
		}
		u, err := unit(e)
		if err != nil {
			return nil, fmt.Errorf("embedding %d: %w", i, err)
		}
		out[i] = u
	}
	return out, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// CosineDistance is the mean over unordered pairs of embeddings of
// 1 − cos(a, b). It fails with fewer than two embeddings, unequal lengths
// or a zero vector.
func CosineDistance(emb [][]float64) (float64, error) {
	if len(emb) < 2 {
		return 0, errors.New("cosine distance needs at least two embeddings")
	}
	u, err := normalized(emb)
	if err != nil {
		return 0, err
	}
	var sum float64
	pairs := 0
	for i := range u {
		for j := i + 1; j < len(u); j++ {
			sum += 1 - dot(u[i], u[j])
			pairs++
		}
	}
	return sum / float64(pairs), nil
}

// Vendi is the Vendi score (Friedman & Dieng 2023) of the embeddings with
// the cosine-similarity kernel: exp(−Σ λ ln λ) over the eigenvalues λ of
// K/n, where K[i][j] = cos(e_i, e_j). It lies in [1, n]: 1 when every
// embedding points the same way, n when they are orthogonal. Eigenvalues
// below zero from rounding are treated as zero.
func Vendi(emb [][]float64) (float64, error) {
	if len(emb) == 0 {
		return 0, errors.New("vendi score needs at least one embedding")
	}
	u, err := normalized(emb)
	if err != nil {
		return 0, err
	}
	n := len(u)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			k.SetSym(i, j, dot(u[i], u[j])/float64(n))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(k, false) {
		return 0, errors.New("vendi score: eigen-decomposition did not converge")
	}
	var h float64
	for _, l := range eig.Values(nil) {
		if l > 0 {
			h -= l * math.Log(l)
		}
	}
	return math.Exp(h), nil
}
