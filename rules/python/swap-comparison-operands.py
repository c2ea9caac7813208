def known(word, vocabulary):
    return vocabulary in word
