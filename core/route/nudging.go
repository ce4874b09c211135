package route

// Nudging (Fei et al. 2025, "Nudging: Inference-time alignment of LLMs via
// guided decoding") as a BACo router. In Nudging the aligned model drafts
// and the base model takes over at the next word where it is confident —
// its top-1 probability is at least γ — and keeps writing until its top-1
// probability drops below γ, when the aligned model takes the next word.
//
// As a router the rule is stateless: base iff the base model's top-1
// probability p1 ≥ γ, else aligned; a tie (p1 == γ) goes to base. The
// word-level hand-over is the decoder's word-boundary gating (Boundary
// "word", the default): a change of model requested in the middle of a word
// takes effect where the next word starts, so each model writes whole words.
// With the "token" boundary the hand-over happens at every token instead.
//
// Unlike the paper's routers, raising γ sends fewer tokens to the base
// model: γ = 0 is always base, γ > 1 would never be (γ is bounded to [0, 1],
// so γ = 1 is base only where the base model is certain).

// nudgingRule: base iff p1 ≥ γ; exactly γ goes to base.
func nudgingRule(v *View, gamma float64) float64 {
	if v.Base.P1() >= gamma {
		return toBase
	}
	return toAligned
}
