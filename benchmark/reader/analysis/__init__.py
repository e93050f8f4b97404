"""Reader-study analysis: ratings readers (io), OR-Hillis MRMC (mrmc), visual Turing tests (turing)."""
