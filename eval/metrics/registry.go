package metrics

// Kind groups the measures.
type Kind string

// Kinds of measure.
const (
	// Diversity measures are the x axes of the diversity–quality planes.
	Diversity Kind = "diversity"
	// Quality measures are the y axes.
	Quality Kind = "quality"
	// Descriptive measures are reported but not plotted.
	Descriptive Kind = "descriptive"
)

// Names of the measures bacoctl eval reports.
const (
	Distinct1        = "distinct-1"
	Distinct2        = "distinct-2"
	Distinct3        = "distinct-3"
	Distinct4        = "distinct-4"
	Entropy4         = "entropy-4"
	OneMinusSelfBLEU = "1-self-bleu"
	CompressionName  = "compression-ratio"
	RougeLDist       = "rouge-l-dist"
	EmbedCosineDist  = "embed-cosine-dist"
	VendiName        = "vendi"
	LogLik           = "loglik"
	PerplexityName   = "perplexity"
	JudgeName        = "judge"
	BaseShare        = "base-share"
	Length           = "length"
)

// Info describes one measure.
type Info struct {
	// Name is the measure's name in files and plots.
	Name string `json:"name"`
	// Kind is diversity, quality or descriptive.
	Kind Kind `json:"kind"`
	// HigherIsBetter is true when a larger value is more diverse (diversity)
	// or better (quality).
	HigherIsBetter bool `json:"higher_is_better"`
	// Plane is true for quality measures used as the y axis of planes.
	Plane bool `json:"plane,omitempty"`
	// Group is "lexical" or "semantic" for diversity measures.
	Group string `json:"group,omitempty"`
	// Doc is a one-line definition (docs/eval.md has the full one).
	Doc string `json:"doc"`
}

var registry = []Info{
	{Distinct1, Diversity, true, false, "lexical", "unique unigrams / all unigrams over a prompt's samples"},
	{Distinct2, Diversity, true, false, "lexical", "unique bigrams / all bigrams"},
	{Distinct3, Diversity, true, false, "lexical", "unique trigrams / all trigrams"},
	{Distinct4, Diversity, true, false, "lexical", "unique 4-grams / all 4-grams"},
	{Entropy4, Diversity, true, false, "lexical", "Shannon entropy (bits) of the pooled 4-gram distribution"},
	{OneMinusSelfBLEU, Diversity, true, false, "lexical", "1 − mean BLEU-4 of each sample against the others"},
	{CompressionName, Diversity, false, false, "lexical", "bytes of the joined samples / bytes of their gzip; lower is more diverse"},
	{RougeLDist, Diversity, true, false, "lexical", "mean over pairs of 1 − ROUGE-L F1"},
	{EmbedCosineDist, Diversity, true, false, "semantic", "mean over pairs of 1 − cosine similarity of embeddings"},
	{VendiName, Diversity, true, false, "semantic", "Vendi score of the embeddings (effective number of distinct samples)"},
	{LogLik, Quality, true, true, "", "mean token log-likelihood (nats) of the responses under the aligned model"},
	{PerplexityName, Quality, false, false, "", "exp(−mean token log-likelihood) under the aligned model"},
	{JudgeName, Quality, true, true, "", "judge model's 1–10 rating"},
	{BaseShare, Descriptive, true, false, "", "share of tokens emitted by the base model"},
	{Length, Descriptive, true, false, "", "mean tokens per sample"},
}

// All returns every measure in report order.
func All() []Info { return append([]Info(nil), registry...) }

// Lookup returns the measure called name.
func Lookup(name string) (Info, bool) {
	for _, m := range registry {
		if m.Name == name {
			return m, true
		}
	}
	return Info{}, false
}
