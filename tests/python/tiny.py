"""What the Trainer tests share: bert-base-uncased's vocabulary and a 2-layer hidden-32 BERT over it, so every
run on the first chapters of the KJV takes seconds (the `tiny_kjv` fixture of conftest.py prepares them)."""
VOCAB = "vocab/bert-base-uncased/vocab.txt"
TINY = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=128)
