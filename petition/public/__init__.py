"""Public pages: petitions, signing and confirming."""
