"""The page at "/": the models, their signatures, and a way to try each one.

The page is static: it holds no model data, so nothing a model file says can be written into its HTML or
script (model and tensor names reach the page only through fetch() and are shown with textContent). It
lists the models the caller may use (GET /v1/models, then each one's metadata) with the token typed into
its token field, kept in the tab's sessionStorage only. For an image model (one FP32 input of 28 x 28
pixels in any of the layouts (1, 28, 28), (28, 28, 1), (28, 28) or (784,)) you draw a digit with the mouse;
the page scales it to 28 x 28 grey values in [0, 1], asks the model's infer endpoint for the class and the
:explain endpoint for the saliency map (|d score / d pixel|), drawn beside the digit in red. For a
text-embedding model (BYTES "text" in) you type sentences, one per line, and see the table of their cosine
similarities (/v1/embeddings); for a text-generation model (BYTES "text_input" in) you type a prompt and
watch the continuation arrive piece by piece (/v1/completions, streamed).
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tinygrad_maas models</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
 .model { border: 1px solid #ccc; border-radius: 8px; padding: 1em; margin-bottom: 1.5em; }
 code, pre { background: #f4f4f4; padding: 0 .3em; }
 canvas { border: 1px solid #888; background: black; cursor: crosshair; touch-action: none; margin-right: 1em; }
 .result { font-size: 1.4em; margin-left: 1em; }
 table.similarity td { padding: .2em .6em; text-align: right; }
 textarea { width: 100%; }
</style></head><body>
<h1>tinygrad_maas</h1>
<p>Open Inference Protocol at <code>/v2</code>, TF-Serving REST and KServe v1 at <code>/v1</code>, OpenAI's
<code>/v1/embeddings</code> and <code>/v1/completions</code>, metrics at
<code>/metrics</code>, this API described at <code>/openapi.json</code>.</p>
<p><label>Bearer token (if the server asks for one): <input id="token" type="password" size="40"></label>
<button id="reload">Show models</button></p>
<p id="status"></p>
<div id="models"></div>
<script>
const SIZE = 28, DIGIT_LAYOUTS = ["1,28,28", "28,28,1", "28,28", "784"];
const tokenField = document.getElementById("token");
tokenField.value = sessionStorage.getItem("token") || "";

function headers(extra) {
  const all = Object.assign({"Content-Type": "application/json"}, extra || {});
  if (tokenField.value) all["Authorization"] = "Bearer " + tokenField.value;
  return all;
}

async function call(path, body) {
  const response = await fetch(path, body === undefined ? {headers: headers()} :
                               {method: "POST", headers: headers(), body: JSON.stringify(body)});
  const answer = await response.json();
  if (!response.ok) throw new Error((answer.error && answer.error.message) || answer.error || response.statusText);
  return answer;
}

function similarityPad(box, name) {
  const sentences = element("textarea", undefined, {rows: 5});
  sentences.value = "A man is playing a guitar.\\nSomeone plays an instrument.\\nThe stock market fell sharply.";
  const go = element("button", "Compare"), table = element("table", undefined, {className: "similarity"});
  box.append(element("p", "Sentences, one per line; the table shows their cosine similarities:"), sentences,
             element("br"), go, table);
  go.onclick = async () => {
    const lines = sentences.value.split("\\n").filter(line => line.trim());
    table.replaceChildren();
    try {
      const answer = await call("/v1/embeddings", {model: name, input: lines});
      const vectors = answer.data.map(item => item.embedding);
      const dot = (a, b) => a.reduce((sum, value, i) => sum + value * b[i], 0);
      const cosine = (a, b) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
      lines.forEach((line, i) => {
        const row = element("tr");
        row.append(element("th", line.slice(0, 40)));
        vectors.forEach(vector => row.append(element("td", cosine(vectors[i], vector).toFixed(3))));
        table.append(row);
      });
    } catch (error) { table.append(element("tr", "error: " + error.message)); }
  };
}

function generationPad(box, name) {
  const prompt = element("input", undefined, {size: 50, value: "The "});
  const tokens = element("input", undefined, {type: "number", value: 120, min: 1, max: 1024});
  const temperature = element("input", undefined, {type: "number", value: 0.8, min: 0, max: 2, step: 0.1});
  const go = element("button", "Generate"), output = element("pre", "");
  box.append(element("p", "A prompt; the continuation streams in as the model writes it:"), prompt,
             element("span", " tokens "), tokens, element("span", " temperature "), temperature, go, output);
  go.onclick = async () => {
    output.textContent = prompt.value;
    const body = {model: name, prompt: prompt.value, max_tokens: Number(tokens.value),
                  temperature: Number(temperature.value), stream: true};
    try {
      const response = await fetch("/v1/completions", {method: "POST", headers: headers(),
                                                        body: JSON.stringify(body)});
      if (!response.ok) throw new Error((await response.json()).error.message);
      const reader = response.body.getReader(), decoder = new TextDecoder();
      let pending = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        pending += decoder.decode(value, {stream: true});
        const events = pending.split("\\n\\n");
        pending = events.pop();
        for (const event of events) {
          const data = event.slice("data: ".length);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          output.textContent += chunk.choices[0].text;
        }
      }
    } catch (error) { output.textContent += "\\nerror: " + error.message; }
  };
}

function element(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  Object.assign(node, attributes || {});
  return node;
}

function pixelsOf(canvas) {
  const small = element("canvas", undefined, {width: SIZE, height: SIZE});
  small.getContext("2d").drawImage(canvas, 0, 0, SIZE, SIZE);
  const data = small.getContext("2d").getImageData(0, 0, SIZE, SIZE).data, pixels = [];
  for (let i = 0; i < data.length; i += 4) pixels.push(data[i] / 255);
  return pixels;
}

function drawSaliency(canvas, attributions) {
  const values = attributions.flat(4).map(Math.abs), top = Math.max(...values) || 1;
  const context = canvas.getContext("2d"), cell = canvas.width / SIZE;
  context.clearRect(0, 0, canvas.width, canvas.height);
  values.forEach((value, i) => {
    context.fillStyle = "rgba(255, 0, 0, " + (value / top) + ")";
    context.fillRect((i % SIZE) * cell, Math.floor(i / SIZE) * cell, cell, cell);
  });
}

function digitPad(box, name, input) {
  const canvas = element("canvas", undefined, {width: 280, height: 280});
  const map = element("canvas", undefined, {width: 280, height: 280, title: "saliency"});
  const result = element("span", "", {className: "result"});
  const predict = element("button", "Predict"), clear = element("button", "Clear");
  box.append(element("p", "Draw a digit; the red map shows which pixels moved the score most:"), canvas, map,
             element("br"), predict, clear, result);
  const context = canvas.getContext("2d");
  context.strokeStyle = "white"; context.lineWidth = 22; context.lineCap = "round";
  let drawing = false;
  const at = e => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  canvas.onpointerdown = e => { drawing = true; context.beginPath(); context.moveTo(...at(e)); };
  canvas.onpointermove = e => { if (drawing) { context.lineTo(...at(e)); context.stroke(); } };
  canvas.onpointerup = () => { drawing = false; };
  clear.onclick = () => { context.clearRect(0, 0, 280, 280); map.getContext("2d").clearRect(0, 0, 280, 280);
                          result.textContent = ""; };
  predict.onclick = async () => {
    const pixels = pixelsOf(canvas), shape = [1].concat(input.shape.slice(1));
    try {
      const answer = await call("/v2/models/" + encodeURIComponent(name) + "/infer",
                                {inputs: [{name: input.name, datatype: "FP32", shape: shape, data: pixels}]});
      const scores = answer.outputs[0].data;
      result.textContent = "predicted class: " + scores.indexOf(Math.max(...scores));
      const rows = input.shape.slice(1);  // one instance in the model's own layout, as nested lists
      const nest = (flat, dims) => dims.length === 1 ? flat :
        Array.from({length: dims[0]}, (_, i) => nest(flat.slice(i * flat.length / dims[0],
                                                                 (i + 1) * flat.length / dims[0]), dims.slice(1)));
      const explained = await call("/v1/models/" + encodeURIComponent(name) + ":explain",
                                   {instances: [nest(pixels, rows)], parameters: {method: "saliency"}});
      drawSaliency(map, explained.explanations[0].attributions);
    } catch (error) { result.textContent = "error: " + error.message; }
  };
}

async function show() {
  sessionStorage.setItem("token", tokenField.value);
  const list = document.getElementById("models"), status = document.getElementById("status");
  list.replaceChildren();
  try {
    const names = (await call("/v1/models")).models;
    status.textContent = names.length + " model(s) served.";
    for (const name of names) {
      const box = element("div", undefined, {className: "model"});
      box.append(element("h2", name));
      list.append(box);
      try {
        const metadata = await call("/v2/models/" + encodeURIComponent(name));
        box.append(element("p", "versions " + metadata.versions.join(", ")),
                   element("pre", JSON.stringify({inputs: metadata.inputs, outputs: metadata.outputs}, null, 1)));
        const input = metadata.inputs[0];
        if (metadata.inputs.length === 1 && input.datatype === "FP32" &&
            DIGIT_LAYOUTS.includes(input.shape.slice(1).join(","))) digitPad(box, name, input);
        else if (input.datatype === "BYTES" && input.name === "text") similarityPad(box, name);
        else if (input.datatype === "BYTES" && input.name === "text_input") generationPad(box, name);
        else box.append(element("p", "Try it: POST /v2/models/" + name + "/infer"));
      } catch (error) { box.append(element("p", "unavailable: " + error.message)); }
    }
  } catch (error) { status.textContent = "error: " + error.message; }
}
document.getElementById("reload").onclick = show;
show();
</script></body></html>
"""
