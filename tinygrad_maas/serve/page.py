"""The page at "/": the models, their signatures, and a way to try each one. For an image model (one input
of 28 x 28 pixels, in any of the layouts (1, 28, 28), (28, 28, 1), (28, 28) or (784,)) you draw a digit with
the mouse; the page scales it to 28 x 28 grey values in [0, 1] and sends it to the model's infer endpoint."""

import html
import json

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tinygrad_maas models</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }}
 .model {{ border: 1px solid #ccc; border-radius: 8px; padding: 1em; margin-bottom: 1.5em; }}
 code {{ background: #f4f4f4; padding: 0 .3em; }}
 canvas {{ border: 1px solid #888; background: black; cursor: crosshair; touch-action: none; }}
 .result {{ font-size: 1.4em; margin-left: 1em; }}
</style></head><body>
<h1>tinygrad_maas</h1>
<p>{count} model(s) served. Open Inference Protocol at <code>/v2</code>, TF-Serving REST at <code>/v1</code>,
metrics at <code>/metrics</code>.</p>
{models}
<script>
const SIZE = 28;
function setupCanvas(name, layout) {{
  const canvas = document.getElementById("canvas-" + name), context = canvas.getContext("2d");
  context.strokeStyle = "white"; context.lineWidth = 22; context.lineCap = "round";
  let drawing = false;
  const at = e => {{ const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }};
  canvas.onpointerdown = e => {{ drawing = true; context.beginPath(); context.moveTo(...at(e)); }};
  canvas.onpointermove = e => {{ if (drawing) {{ context.lineTo(...at(e)); context.stroke(); }} }};
  canvas.onpointerup = () => {{ drawing = false; }};
  document.getElementById("clear-" + name).onclick = () => {{
    context.clearRect(0, 0, canvas.width, canvas.height);
    document.getElementById("result-" + name).textContent = "";
  }};
  document.getElementById("predict-" + name).onclick = async () => {{
    const small = document.createElement("canvas"); small.width = SIZE; small.height = SIZE;
    small.getContext("2d").drawImage(canvas, 0, 0, SIZE, SIZE);
    const pixels = small.getContext("2d").getImageData(0, 0, SIZE, SIZE).data;
    const data = []; for (let i = 0; i < pixels.length; i += 4) data.push(pixels[i] / 255);
    const body = {{inputs: [{{name: layout.input, datatype: "FP32", shape: [1].concat(layout.shape), data: data}}]}};
    const response = await fetch("/v2/models/" + name + "/infer", {{method: "POST",
      headers: {{"Content-Type": "application/json"}}, body: JSON.stringify(body)}});
    const answer = await response.json(), out = document.getElementById("result-" + name);
    if (!response.ok) {{ out.textContent = "error: " + answer.error; return; }}
    const scores = answer.outputs[0].data;
    out.textContent = "predicted class: " + scores.indexOf(Math.max(...scores));
  }};
}}
{scripts}
</script></body></html>
"""

DIGIT_LAYOUTS = ([1, 28, 28], [28, 28, 1], [28, 28], [784])


def render(repository):
    blocks, scripts = [], []
    for name, versions in sorted(repository.models.items()):
        latest = versions[max(versions, key=int)]
        signature = {"inputs": latest.inputs, "outputs": latest.outputs}
        block = (f'<div class="model"><h2>{html.escape(name)}</h2><p>versions {", ".join(sorted(versions, key=int))}'
                 f' &middot; {"ready" if latest.ready else "loading"}</p><pre>{html.escape(json.dumps(signature, indent=1))}</pre>')
        shape = latest.inputs[0]["shape"][1:] if len(latest.inputs) == 1 else None
        if shape in DIGIT_LAYOUTS and latest.inputs[0]["datatype"] == "FP32":
            block += (f'<p>Draw a digit:</p><canvas id="canvas-{html.escape(name)}" width="280" height="280"></canvas>'
                      f'<br><button id="predict-{html.escape(name)}">Predict</button> '
                      f'<button id="clear-{html.escape(name)}">Clear</button>'
                      f'<span class="result" id="result-{html.escape(name)}"></span>')
            layout = json.dumps({"input": latest.inputs[0]["name"], "shape": shape})
            scripts.append(f"setupCanvas({json.dumps(name)}, {layout});")
        else:
            block += (f'<p>Try it: <code>curl -X POST localhost:8000/v2/models/{html.escape(name)}/infer -d '
                      f'\'{{"inputs": [...]}}\'</code></p>')
        blocks.append(block + "</div>")
    return TEMPLATE.format(count=len(blocks), models="\n".join(blocks), scripts="\n".join(scripts))
