package tokenclass

// The English function-word list used by Classify (class "function") and the
// fc routers. It was written for baco from the closed grammatical classes of
// English — articles and determiners, quantifiers, pronouns (personal,
// possessive, reflexive, demonstrative, interrogative, relative, indefinite),
// prepositions, conjunctions, auxiliary and modal verbs with their negated
// and contracted forms, and the common particles and grammatical adverbs —
// following the usual textbook division of words into closed-class
// (function) and open-class (content) words. It is not copied from a
// stop-word list. The clitics that byte-level BPE vocabularies split off
// ("'s", "'re", "n't", ...) are included. Entries are lower case; "i" matches
// "I" because lookups are lower-cased.
//
// functionWords is built once at package initialisation and only read.
var functionWords = makeSet([]string{
	// Articles and determiners.
	"a", "an", "the", "this", "that", "these", "those", "such", "what",
	"which", "whatever", "whichever", "whose",
	// Quantifiers.
	"all", "any", "both", "each", "either", "neither", "every", "no", "none",
	"some", "few", "fewer", "fewest", "little", "less", "least", "many",
	"much", "more", "most", "several", "enough", "other", "another", "own",
	"same",
	// Personal pronouns (subject, object).
	"i", "me", "you", "he", "him", "she", "her", "it", "we", "us", "they",
	"them", "thee", "thou", "ye",
	// Possessive determiners and pronouns.
	"my", "mine", "your", "yours", "his", "hers", "its", "our", "ours",
	"their", "theirs",
	// Reflexive pronouns.
	"myself", "yourself", "yourselves", "himself", "herself", "itself",
	"ourselves", "themselves", "oneself",
	// Interrogative and relative words.
	"who", "whom", "whoever", "whomever", "when", "where", "why", "how",
	"whenever", "wherever", "however", "whereby", "wherein",
	// Indefinite pronouns.
	"one", "ones", "anyone", "anybody", "anything", "everyone", "everybody",
	"everything", "someone", "somebody", "something", "nobody", "nothing",
	// Prepositions.
	"about", "above", "across", "after", "against", "along", "amid",
	"among", "amongst", "around", "as", "at", "before", "behind", "below",
	"beneath", "beside", "besides", "between", "beyond", "by", "despite",
	"down", "during", "except", "for", "from", "in", "inside", "into",
	"like", "near", "of", "off", "on", "onto", "out", "outside", "over",
	"past", "per", "since", "through", "throughout", "till", "to", "toward",
	"towards", "under", "underneath", "unlike", "until", "up", "upon", "via",
	"with", "within", "without", "regarding", "concerning", "versus",
	// Coordinating conjunctions.
	"and", "but", "or", "nor", "so", "yet",
	// Subordinating conjunctions.
	"although", "because", "if", "lest", "once", "than", "though", "unless",
	"whereas", "whether", "while", "whilst",
	// Auxiliary verbs: be, have, do.
	"be", "am", "is", "are", "was", "were", "been", "being",
	"have", "has", "had", "having", "do", "does", "did", "done", "doing",
	// Modal verbs.
	"can", "could", "may", "might", "must", "shall", "should", "will",
	"would", "ought", "cannot",
	// Negated auxiliaries and modals.
	"isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't", "hadn't",
	"don't", "doesn't", "didn't", "can't", "couldn't", "mightn't",
	"mustn't", "shan't", "shouldn't", "won't", "wouldn't", "needn't",
	"ain't",
	// Contracted pronoun + auxiliary forms.
	"i'm", "i've", "i'll", "i'd", "you're", "you've", "you'll", "you'd",
	"he's", "he'll", "he'd", "she's", "she'll", "she'd", "it's", "it'll",
	"we're", "we've", "we'll", "we'd", "they're", "they've", "they'll",
	"they'd", "that's", "there's", "here's", "what's", "who's", "let's",
	// Clitics split off by byte-level BPE tokenizers.
	"'s", "'re", "'ve", "'ll", "'d", "'m", "'t", "n't",
	// Particles and grammatical adverbs.
	"not", "there", "here", "then", "thus", "hence", "therefore", "also",
	"too", "very", "just", "only", "even", "still", "already", "again",
	"ever", "never", "always", "often", "rather", "quite", "almost",
	"perhaps", "maybe", "indeed", "instead", "else", "otherwise", "now",
	"yes", "yeah", "oh",
})

// maxFunctionWordLen is the length in bytes of the longest entry; longer text
// cannot match (IsFunctionWord allows for lower-casing growth).
const maxFunctionWordLen = 12

func makeSet(words []string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// FunctionWords returns a copy of the English function-word list, lower case,
// in no particular order.
func FunctionWords() []string {
	out := make([]string, 0, len(functionWords))
	for w := range functionWords {
		out = append(out, w)
	}
	return out
}
