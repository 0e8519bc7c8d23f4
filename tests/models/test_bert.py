"""The BERT encoder on a tiny random configuration: config checks, masks, gradients, name mapping."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd.gradcheck import gradcheck
from tinygrad_maas.models import BertConfig, BertModel
from tinygrad_maas.models.bert import hf_to_ours

TINY = dict(
    vocab_size=20,
    hidden_size=8,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=12,
    max_position_embeddings=10,
)


def tiny_model(dtype=None):
    tm.manual_seed(0)
    model = BertModel(BertConfig(**TINY)).eval()
    model.requires_grad_(False)
    return model.double() if dtype == "float64" else model


def test_config_reads_only_architecture_fields_and_rejects_what_it_cannot_build():
    config = BertConfig.from_dict({**TINY, "architectures": ["BertModel"], "transformers_version": "4.8.2"})
    assert config.hidden_size == 8 and config.layer_norm_eps == 1e-12
    with pytest.raises(ValueError, match="not divisible by num_attention_heads 3"):
        BertConfig.from_dict({**TINY, "num_attention_heads": 3})
    with pytest.raises(ValueError, match="model_type 'gpt2' is not a BERT model"):
        BertConfig.from_dict({"model_type": "gpt2"})
    with pytest.raises(ValueError, match="position_embedding_type 'relative_key'"):
        BertConfig.from_dict({**TINY, "position_embedding_type": "relative_key"})


def test_padding_changes_nothing_for_the_real_tokens():
    model = tiny_model()
    ids = np.array([[1, 5, 7, 2]])
    alone = model(ids, np.ones_like(ids)).numpy()
    padded = model(np.array([[1, 5, 7, 2, 0, 0]]), np.array([[1, 1, 1, 1, 0, 0]])).numpy()
    assert np.abs(padded[:, :4] - alone).max() < 1e-6


def test_output_is_batch_by_length_by_hidden_and_the_pooler_is_tanh_of_the_first_token():
    model = tiny_model()
    hidden = model(np.array([[1, 2, 3], [4, 5, 6]]))
    assert hidden.shape == (2, 3, 8)
    pooled = model.pooled(hidden).numpy()
    expected = np.tanh(hidden.numpy()[:, 0] @ model.pooler.weight.numpy().T + model.pooler.bias.numpy())
    assert np.allclose(pooled, expected, atol=1e-6)


def test_gradients_through_the_whole_encoder_pass_gradcheck_in_float64():
    model = tiny_model("float64")
    ids, mask = np.array([[1, 4, 2, 0]]), np.array([[1, 1, 1, 0]])
    weight = model.layers[1].intermediate.weight

    def loss_of(w):
        model.layers[1].intermediate.weight = tm.nn.Parameter(w)
        return model(ids, mask).sum()

    assert gradcheck(loss_of, (tm.tensor(weight.detach().numpy(), requires_grad=True),))


def test_name_mapping_strips_prefixes_renames_old_layer_norm_names_and_refuses_strangers():
    one = tm.ones(2)
    renamed = hf_to_ours(
        {
            "bert.encoder.layer.0.attention.output.LayerNorm.gamma": one,
            "bert.embeddings.position_ids": one,
            "cls.predictions.bias": one,
            "encoder.layer.1.intermediate.dense.bias": one,
        }
    )
    assert sorted(renamed) == ["layers.0.attention_norm.weight", "layers.1.intermediate.bias"]
    with pytest.raises(ValueError, match="'decoder.weight' is not part of a BERT encoder"):
        hf_to_ours({"decoder.weight": one})


def test_from_pretrained_refuses_a_folder_with_only_a_pickled_checkpoint(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(FileNotFoundError, match="pickled pytorch_model.bin files are never read"):
        BertModel.from_pretrained(tmp_path)
