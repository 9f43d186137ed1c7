"""Plans for people and tools: text, Markdown and JSON, derivation chains, graphs, and the
questionnaire as a form to build."""
