// Compile .ksy files to Python with the official Kaitai Struct compiler (npm
// kaitai-struct-compiler, programmatic API). Used only as a test oracle.
// usage: node ksc_compile.js OUT_DIR FILE.ksy...
"use strict";
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");
const KaitaiStructCompiler = require("kaitai-struct-compiler");

async function main() {
  const [outDir, ...files] = process.argv.slice(2);
  fs.mkdirSync(outDir, { recursive: true });
  for (const file of files) {
    const ksy = yaml.load(fs.readFileSync(file, "utf8"));
    const compiler = typeof KaitaiStructCompiler === "function" && !KaitaiStructCompiler.compile
      ? new KaitaiStructCompiler() : KaitaiStructCompiler;
    const out = await compiler.compile("python", ksy, null, false);
    for (const [name, text] of Object.entries(out)) {
      fs.writeFileSync(path.join(outDir, name), text);
      console.log(path.join(outDir, name));
    }
  }
}
main().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
