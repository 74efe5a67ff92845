"""The GPT-2 move model: dataset, tokenizer, training, inference and evaluation."""
