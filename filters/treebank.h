#pragma once
// NLTK's NLTKWordTokenizer.tokenize (nltk/tokenize/destructive.py, NLTK
// 3.8): the Treebank-style rules that word_tokenize applies to each
// sentence, reproduced without regular expressions.
//
// NLTK runs about thirty regex substitutions over the sentence, each seeing
// the spaces that the earlier ones inserted, then splits on whitespace. Here
// the sentence is cut at whitespace into chunks first: every rule looks at
// most one character past a chunk's edge, so each chunk is decided alone,
// given a few facts about its surroundings. Inside a chunk the rules run in
// NLTK's order over a flag per byte gap ("a space was inserted here"), and
// only the rules whose trigger characters occur in the chunk run at all.

#include <string_view>
#include <vector>

namespace needle::words::internal {

// Appends the tokens of one sentence (as NLTK's sentence tokenizer cut it,
// unstripped) to *out: views into `sentence`, or the literals "``" and "''"
// that replace double quotes.
void TreebankWords(std::string_view sentence,
                   std::vector<std::string_view>* out);

}  // namespace needle::words::internal
