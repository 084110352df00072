import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CedanaError, type LoadedPlugin } from '@cedana/core';
import { cellState, featureMatrix, matrixErrors } from './matrix.js';
import { renderErrors, renderMatrix } from './print.js';

const ok: LoadedPlugin = {
  name: 'criu',
  version: '1.0.0',
  path: '/plugins/criu/1.0.0',
  status: 'ok',
  definition: {
    name: 'criu',
    version: '1.0.0',
    role: 'engine',
    errors: { CEDANA_ERR_CRIU_DUMP: { status: 'INTERNAL', hint: 'read the log' } },
    features: { DumpHandler: async () => ({}) as never, Version: '4.2' },
  },
};
const wrongShape: LoadedPlugin = {
  name: 'runc',
  version: '0.3.0',
  path: '/plugins/runc/0.3.0',
  status: 'ok',
  definition: { name: 'runc', version: '0.3.0', features: { DumpCmd: { describe: 'Dump a runc container' }, Version: 42 as never } },
};
const failed: LoadedPlugin = {
  name: 'gpu',
  version: '0.1.0',
  path: '/plugins/gpu/0.1.0',
  status: 'error',
  phase: 'engines',
  error: new CedanaError('CEDANA_ERR_PLUGIN_ENGINE', 'plugin "gpu" (engines): needs cedana ^2.0.0', {
    hint: 'install gpu@0.0.9, made for this cedana',
  }),
};

describe('featureMatrix', () => {
  const matrix = featureMatrix([ok, wrongShape, failed]);

  it('has one row per feature symbol of core, in order', () => {
    assert.equal(matrix.features[0]?.symbol, 'DumpCmd');
    assert.ok(matrix.features.some((f) => f.symbol === 'Version' && f.description === 'Version'));
  });

  it('marks exported, not exported, incompatible and failed cells', () => {
    assert.equal(cellState(matrix, 'criu', 'DumpHandler'), 'exported');
    assert.equal(cellState(matrix, 'criu', 'DumpCmd'), 'missing');
    assert.equal(cellState(matrix, 'runc', 'DumpCmd'), 'exported');
    assert.equal(cellState(matrix, 'runc', 'Version'), 'incompatible');
    assert.equal(cellState(matrix, 'gpu', 'DumpCmd'), 'failed');
  });

  it('keeps the load error of a failed plugin as FeaturesResp data', () => {
    assert.deepEqual(matrix.plugins[2], {
      name: 'gpu',
      version: '0.1.0',
      path: '/plugins/gpu/0.1.0',
      status: 'error',
      error: 'plugin "gpu" (engines): needs cedana ^2.0.0',
      errorCode: 'CEDANA_ERR_PLUGIN_ENGINE',
      phase: 'engines',
      hint: 'install gpu@0.0.9, made for this cedana',
      role: '',
      requires: [],
      errorCodes: [],
    });
  });

  it('names plugin, symbol, expected and found shape of an incompatible export', () => {
    const exp = matrix.exports.find((e) => e.state === 'incompatible');
    assert.equal(exp?.plugin, 'runc');
    assert.match(exp?.error ?? '', /runc.*Version.*number.*expected a string/);
  });

  it('lists load and shape errors with phase, code and hint', () => {
    const errors = matrixErrors(matrix, [ok, wrongShape, failed]);
    assert.deepEqual(
      errors.map((e) => [e.plugin, e.phase, e.code]),
      [
        ['gpu', 'engines', 'CEDANA_ERR_PLUGIN_ENGINE'],
        ['runc', 'shape', 'CEDANA_ERR_PLUGIN_SHAPE'],
      ],
    );
    assert.equal(errors[0]?.hint, 'install gpu@0.0.9, made for this cedana');
    assert.match(errors[1]?.hint ?? '', /wrong shape/);
  });

  it('falls back to the code hint without the plugin records (daemon answers)', () => {
    const fromDaemon = { ...matrix, plugins: matrix.plugins.map((p) => ({ ...p, hint: '' })) };
    assert.match(matrixErrors(fromDaemon)[0]?.hint ?? '', /made for this cedana version/);
  });

  it('has no errors when every plugin loaded with the right shapes', () => {
    assert.deepEqual(matrixErrors(featureMatrix([ok])), []);
  });
});

describe('renderMatrix', () => {
  it('prints a column per plugin, marks and a legend', () => {
    const text = renderMatrix(featureMatrix([ok, wrongShape, failed]));
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^FEATURE\s+DESCRIPTION\s+criu\s+runc\s+gpu$/);
    assert.match(text, /^DumpCmd\s+Dump command\s+✖\s+✔\s+—$/m);
    assert.match(text, /^Version\s+Version\s+✔\s+!\s+—$/m);
    assert.match(text, /✔ exported.*✖ not exported.*! incompatible.*— plugin failed to load/);
  });

  it('lists each plugin’s role, the roles it requires and the error codes it declares (also in --json)', () => {
    const matrix = featureMatrix([ok, wrongShape, failed]);
    assert.deepEqual(
      matrix.plugins.map((p) => [p.name, p.role, p.errorCodes]),
      [
        ['criu', 'engine', ['CEDANA_ERR_CRIU_DUMP']],
        ['runc', '', []],
        ['gpu', '', []],
      ],
    );
    const text = renderMatrix(matrix);
    assert.match(text, /^PLUGIN\s+ROLE\s+REQUIRES\s+ERROR CODES$/m);
    assert.match(text, /^criu\s+engine\s+-\s+CEDANA_ERR_CRIU_DUMP$/m);
    assert.match(text, /^runc\s+-\s+-\s+-$/m);
  });

  it('prints each error with plugin, phase, code and hint', () => {
    const text = renderErrors(matrixErrors(featureMatrix([failed]), [failed]));
    assert.equal(
      text,
      'gpu (engines) [CEDANA_ERR_PLUGIN_ENGINE]: plugin "gpu" (engines): needs cedana ^2.0.0\n  hint: install gpu@0.0.9, made for this cedana',
    );
  });
});
