"""Scoring survey exports: reading the tools' files, mapping columns to answers, refusing what
cannot be scored right, planning each distinct profile once, and writing spreadsheet-safe CSV."""
