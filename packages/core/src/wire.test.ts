import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fromMetadataText, toMetadataText } from './wire.js';

it('makes any text a printable-ASCII metadata value and back (a non-ASCII hint once crashed the daemon)', () => {
  for (const text of [
    'make sure it is on the daemon’s PATH',
    'path C:\\dir\\u0041 stays as written',
    'tab\there, newline\nthere, emoji 🧊, ümlaut',
    '["runc: chdir /tmp/ü: no such file"]',
    '',
  ]) {
    const wire = toMetadataText(text);
    assert.match(wire, /^[\x20-\x7e]*$/, `printable ASCII: ${wire}`);
    assert.equal(fromMetadataText(wire), text);
  }
  assert.equal(toMetadataText('plain `cedana ps`'), 'plain `cedana ps`', 'ASCII text travels as it is');
});
