// An independent Yjs editor for the document tests: the reference JavaScript
// implementation (npm `yjs`), driven by one JSON request on stdin, answering one JSON
// object on stdout. Updates and state vectors are base64 of the Yjs v1 encoding.
//
//   {"op": "edit", "client_id": n, "base": [update...], "index": i, "insert": "s", "delete": n}
//     -> {"update": the edit's own update, "text": the text after it}
//   {"op": "merge", "updates": [update...]}
//     -> {"text", "state_vector", "state"} of a fresh document that applied them in order
//   {"op": "state_vector", "updates": [update...]}
//     -> {"state_vector"} of a fresh document that applied them
'use strict';
// Yjs logs notices with console.log; stdout carries only the answer.
console.log = (...args) => console.error(...args);
const Y = require('yjs');

const decode = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));
const encode = (bytes) => Buffer.from(bytes).toString('base64');

// The client id is set after the base is applied: an editor's earlier edits are in its
// base, and Yjs would otherwise take them for another client's and pick a new id.
function fresh(clientId, updates) {
  const doc = new Y.Doc();
  for (const update of updates || []) Y.applyUpdate(doc, decode(update));
  if (clientId !== undefined) doc.clientID = clientId;
  return doc;
}

function handle(request) {
  switch (request.op) {
    case 'edit': {
      const doc = fresh(request.client_id, request.base);
      const before = Y.encodeStateVector(doc);
      const text = doc.getText('content');
      doc.transact(() => {
        if (request.delete) text.delete(request.index, request.delete);
        if (request.insert) text.insert(request.index, request.insert);
      });
      return { update: encode(Y.encodeStateAsUpdate(doc, before)), text: text.toString() };
    }
    case 'merge':
    case 'state_vector': {
      const doc = fresh(undefined, request.updates);
      return {
        text: doc.getText('content').toString(),
        state_vector: encode(Y.encodeStateVector(doc)),
        state: encode(Y.encodeStateAsUpdate(doc)),
      };
    }
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(handle(JSON.parse(input))));
});
