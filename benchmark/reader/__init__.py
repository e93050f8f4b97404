"""Reader studies: study builder, reading web app, export and analysis (visual Turing tests, MRMC)."""
