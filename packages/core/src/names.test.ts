import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRORS } from './errors.js';
import { checkName, fileNameFor, isValidName, NAME_PATTERN, NAME_RULE } from './names.js';

describe('the name rule of JIDs and checkpoint names', () => {
  it('takes ordinary names up to 128 characters', () => {
    for (const name of ['web', 'a', 'train_2.ckpt', 'job-1', 'A9', 'x'.repeat(128), 'a..b']) assert.ok(isValidName(name), name);
  });

  it('refuses path tricks, empty, over-long names and control characters', () => {
    for (const name of ['', '.', '..', '../../x', '../x', 'a/b', '/abs', '-rf', '.hidden', 'x'.repeat(129), 'a\nb', 'a b', 'tab\t', 'é']) {
      assert.equal(isValidName(name), false, JSON.stringify(name));
    }
  });

  it('throws CEDANA_ERR_INVALID_NAME naming the rule, with a long value cut short', () => {
    assert.throws(
      () => checkName('JID', 'x'.repeat(10_240)),
      (err: Error & { code: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_INVALID_NAME');
        assert.ok(err.message.includes(NAME_RULE));
        assert.match(err.message, /10240 characters/);
        assert.ok(err.message.length < 300, 'the 10 KB value is not repeated');
        return true;
      },
    );
    assert.equal(checkName('checkpoint name', 'ok-1'), 'ok-1');
  });

  it("the error's hint says the same rule", () => {
    assert.ok(ERRORS.CEDANA_ERR_INVALID_NAME.hint.includes(NAME_PATTERN.source.slice(1, -1)));
  });

  it('gives a JID from before the rule a file name that stays one path component', () => {
    assert.equal(fileNameFor('web-1'), 'web-1');
    for (const old of ['../../x', 'a\nb', '..', 'x'.repeat(10_240)]) {
      const name = fileNameFor(old);
      assert.ok(isValidName(name), name);
      assert.notEqual(fileNameFor(`${old}!`), name);
    }
  });
});
