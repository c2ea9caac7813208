def known(word, vocabulary):
    return word in vocabulary
