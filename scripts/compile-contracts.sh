#!/usr/bin/env bash
# Compile the labs' Solidity contracts, once, when a lab is written or its contract changes:
#
#   scripts/compile-contracts.sh            (LABS_DIR=… compiles another labs folder: tests use it)
#
# For every labs/*/workspace/contracts/NAME.sol, writes NAME.json beside it: the ABI, the
# bytecode a learner deploys, the runtime bytecode a check compares, and the compiler that made
# them. Labs ship that JSON; nothing is compiled when a lab runs (the Python compiler
# installers download compilers and fail offline). Needs Node and npm; the npm `solc` package
# (solc-js, the compiler built to WebAssembly) is installed at SOLC_VERSION into a folder of
# its own, so the output is the same on every machine.
set -euo pipefail
SOLC_VERSION=0.8.30
EVM_VERSION=cancun            # what every anvil 1.x runs; newer opcodes would not deploy on older nodes

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/labrunner-ci/solc-$SOLC_VERSION"
command -v npm >/dev/null || { echo "compile-contracts.sh: needs npm (Node.js)" >&2; exit 1; }
if [ ! -f "$TOOLS/node_modules/solc/package.json" ]; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --silent "solc@$SOLC_VERSION" >&2
fi

found=0
for source in "${LABS_DIR:-$HERE/labs}"/*/workspace/contracts/*.sol; do
  [ -f "$source" ] || continue
  found=1
  NODE_PATH="$TOOLS/node_modules" node - "$source" "$EVM_VERSION" <<'JS'
const fs = require("fs");
const path = require("path");
const solc = require("solc");
const [source, evmVersion] = process.argv.slice(2);
const name = path.basename(source, ".sol");
const input = {
  language: "Solidity",
  sources: { [path.basename(source)]: { content: fs.readFileSync(source, "utf8") } },
  settings: {
    evmVersion,
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },           // the same bytes whatever the path or machine
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contract = output.contracts[path.basename(source)][name];
const result = {
  contractName: name,
  compiler: `solc-js ${solc.version()} (npm solc), evmVersion ${evmVersion}, optimizer 200 runs`,
  source: path.basename(source),
  abi: contract.abi,
  bytecode: "0x" + contract.evm.bytecode.object,
  deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
};
const target = path.join(path.dirname(source), `${name}.json`);
fs.writeFileSync(target, JSON.stringify(result, null, 2) + "\n");
console.log(`wrote ${path.relative(process.cwd(), target)} (${result.bytecode.length / 2 - 1} bytes of bytecode)`);
JS
done
[ "$found" = 1 ] || { echo "compile-contracts.sh: no labs/*/workspace/contracts/*.sol" >&2; exit 1; }
