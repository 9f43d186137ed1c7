"""The knowledge base and the rules as data: reading YAML within limits, the knowledge models, the
rule files, the answers contract, the static checks, and where the bundled files are."""
