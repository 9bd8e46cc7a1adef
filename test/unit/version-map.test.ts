import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/errors.ts';
import {
  DEV_ONLY_TAG,
  DEV_TAG,
  LOCAL_TAG,
  MAX_EPOCH,
  POST_TAG,
  PRE_RELEASE_TAGS,
  rpmEVR,
  toDebianVersion,
  toRpmVersion,
} from '../../src/packagers/version.ts';

/** [PEP 440 input, expected upstream string (RPM Version and Debian upstream_version)] */
const UPSTREAM: [string, string][] = [
  // release: trailing zeros dropped, padded to two segments
  ['1.0', '1.0'],
  ['1', '1.0'],
  ['1.0.0', '1.0'],
  ['1.0.0.0', '1.0'],
  ['0', '0.0'],
  ['0.0.0', '0.0'],
  ['2.31.0', '2.31'],
  ['1.2.3', '1.2.3'],
  ['1.0.1', '1.0.1'],
  ['1.0.0.1', '1.0.0.1'],
  ['1.2.3.4', '1.2.3.4'],
  ['2024.1', '2024.1'],
  ['20240101', '20240101.0'],
  ['01.002.0', '1.2'],
  ['0.1', '0.1'],
  ['0.0.1', '0.0.1'],
  // pre-releases, every spelling
  ['1.0a1', '1.0~a1'],
  ['1.0a', '1.0~a0'],
  ['1.0alpha2', '1.0~a2'],
  ['1.0.alpha.2', '1.0~a2'],
  ['1.0-a-2', '1.0~a2'],
  ['1.0_a_2', '1.0~a2'],
  ['1.0b3', '1.0~b3'],
  ['1.0beta3', '1.0~b3'],
  ['1.0rc1', '1.0~rc1'],
  ['1.0RC1', '1.0~rc1'],
  ['1.0c1', '1.0~rc1'],
  ['1.0pre1', '1.0~rc1'],
  ['1.0preview1', '1.0~rc1'],
  ['1.0.0rc1', '1.0~rc1'],
  ['1.0a12', '1.0~a12'],
  ['1.0a01', '1.0~a1'],
  // dev releases
  ['1.0.dev456', '1.0~~dev456'],
  ['1.0dev', '1.0~~dev0'],
  ['1.0-dev3', '1.0~~dev3'],
  ['1.0a2.dev456', '1.0~a2~dev456'],
  ['1.0rc1.dev456', '1.0~rc1~dev456'],
  // post releases
  ['1.0.post456', '1.0+post456'],
  ['1.0post1', '1.0+post1'],
  ['1.0.post', '1.0+post0'],
  ['1.0-1', '1.0+post1'],
  ['1.0-r2', '1.0+post2'],
  ['1.0rev3', '1.0+post3'],
  ['1.0.post456.dev34', '1.0+post456~dev34'],
  ['1.0b2.post345', '1.0~b2+post345'],
  ['1.0b2.post345.dev456', '1.0~b2+post345~dev456'],
  ['1.0.0.post1', '1.0+post1'],
  // local version labels
  ['1.0+abc.5', '1.0+local+abc~.5'],
  ['1.0+abc.7', '1.0+local+abc~.7'],
  ['1.0+5', '1.0+local.5'],
  ['1.0+05', '1.0+local.5'],
  ['1.0+0', '1.0+local.0'],
  ['1.0+000', '1.0+local.0'],
  ['1.0+ABC-5_6', '1.0+local+abc~.5.6'],
  ['2.1.0+cpu', '2.1+local+cpu~'],
  ['2.1.0+cu118', '2.1+local+cuBBI~'],
  ['1.0+1a', '1.0+local+Ba~'],
  ['1.0+g1234abc.d20240101', '1.0+local+gBCDEabc~+dCACEABAB~'],
  ['1.0+0123456789', '1.0+local.123456789'],
  ['1.0+a0123456789', '1.0+local+aABCDEFGHIJ~'],
  ['1.0+99999999999999999999999', '1.0+local.99999999999999999999999'],
  ['1.0+1e5', '1.0+local+BeF~'], // alphanumeric per PEP 440 (not the number 100000)
  ['1.0.post1+abc', '1.0+post1+local+abc~'],
  ['1.0.dev1+abc', '1.0~~dev1+local+abc~'],
  ['1.0rc1+abc', '1.0~rc1+local+abc~'],
  // normalization of the whole string
  ['v1.0', '1.0'],
  ['V1.0', '1.0'],
  ['  1.0\n', '1.0'],
  ['1.0RC1.POST2.DEV3', '1.0~rc1+post2~dev3'],
  // epochs do not appear in the upstream string
  ['1!1.0', '1.0'],
  ['0!1.0', '1.0'],
];

describe('toRpmVersion', () => {
  for (const [input, expected] of UPSTREAM) {
    it(`maps ${JSON.stringify(input)} to version ${expected}`, () => {
      assert.equal(toRpmVersion(input).version, expected);
    });
  }

  it('defaults the release to 1 and passes a given one through', () => {
    assert.deepEqual(toRpmVersion('1.0'), { epoch: 0, version: '1.0', release: '1' });
    assert.deepEqual(toRpmVersion('1.0', '3.el9'), { epoch: 0, version: '1.0', release: '3.el9' });
  });

  it('maps the epoch to the Epoch tag', () => {
    assert.deepEqual(toRpmVersion('2!1.0rc1'), { epoch: 2, version: '1.0~rc1', release: '1' });
    assert.equal(toRpmVersion('0!1.0').epoch, 0);
    assert.equal(toRpmVersion(`${MAX_EPOCH}!1.0`).epoch, MAX_EPOCH);
  });

  it('maps equal PEP 440 versions to the same version', () => {
    const groups = [
      ['1', '1.0', '1.0.0', 'v1.0.0.0', '0!1.0'],
      ['1.0rc1', '1.0RC1', '1.0c1', '1.0-pre-1', '1.0.0.rc.01', '1.0preview1'],
      ['1.0.post1', '1.0-1', '1.0r1', '1.0.rev1', '1.0post01'],
      ['1.0+abc.5', '1.0+ABC-05', '1.0.0+abc_5'],
    ];
    for (const group of groups) {
      const mapped = new Set(group.map((v) => toRpmVersion(v).version));
      assert.equal(mapped.size, 1, `${group.join(', ')} -> ${[...mapped].join(', ')}`);
    }
  });

  it('rejects a release rpm would not accept', () => {
    for (const release of ['', '1-2', '1 2', '%{?dist}', '1..el9']) {
      assert.throws(() => toRpmVersion('1.0', release), InputError);
    }
  });
});

describe('toDebianVersion', () => {
  for (const [input, expected] of UPSTREAM) {
    const epoch = /^\s*([0-9]+)!/.exec(input)?.[1];
    const full = `${epoch && Number(epoch) > 0 ? `${epoch}:` : ''}${expected}-1`;
    it(`maps ${JSON.stringify(input)} to ${full}`, () => {
      assert.equal(toDebianVersion(input), full);
    });
  }

  it('maps the epoch to the N: prefix and omits epoch 0', () => {
    assert.equal(toDebianVersion('1!2.0rc1'), '1:2.0~rc1-1');
    assert.equal(toDebianVersion('0!2.0'), '2.0-1');
    assert.equal(toDebianVersion(`${MAX_EPOCH}!1`), `${MAX_EPOCH}:1.0-1`);
  });

  it('uses the given revision', () => {
    assert.equal(toDebianVersion('1.0', '2'), '1.0-2');
    assert.equal(toDebianVersion('1.0a1', '0~bpo12+1'), '1.0~a1-0~bpo12+1');
  });

  it('rejects a revision dpkg would not accept', () => {
    for (const revision of ['', '1-2', '1:2', '1_2', '1 2']) {
      assert.throws(() => toDebianVersion('1.0', revision), InputError);
    }
  });

  it('produces upstream versions that start with a digit and use only dpkg-safe characters', () => {
    for (const [input] of UPSTREAM) {
      assert.match(toDebianVersion(input), /^([0-9]+:)?[0-9][A-Za-z0-9.+~]*-1$/);
    }
  });
});

describe('rpmEVR', () => {
  it('omits epoch 0 and includes any other epoch', () => {
    assert.equal(rpmEVR(toRpmVersion('1.0')), '1.0-1');
    assert.equal(rpmEVR(toRpmVersion('3!1.0.post1', '2')), '3:1.0+post1-2');
    assert.equal(rpmEVR({ epoch: 0, version: '1.0~rc1', release: '4.fc40' }), '1.0~rc1-4.fc40');
  });

  it('refuses malformed parts', () => {
    assert.throws(() => rpmEVR({ epoch: -1, version: '1.0', release: '1' }));
    assert.throws(() => rpmEVR({ epoch: 0, version: '1-0', release: '1' }));
    assert.throws(() => rpmEVR({ epoch: 0, version: '1.0', release: '' }));
  });
});

describe('rejections', () => {
  const invalid = ['', ' ', 'foo', '1.0+', '1.0+a..b', '1.0+a b', '1..0', '.1', '1.0-', '1.0.x', 'a1.0', '1.0 rc1', '!1.0', '-1.0', '1.0+abc+def', '1.0a1b1', '1.0.post1.post2', '1.0~rc1', '1.0^1', '1:1.0'];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)} as not PEP 440`, () => {
      for (const map of [toRpmVersion, toDebianVersion]) {
        assert.throws(
          () => map(input),
          (error: unknown) =>
            error instanceof InputError &&
            error.message.includes(`"${input}"`) &&
            error.message.includes('not a valid PEP 440 version'),
        );
      }
    });
  }

  it('rejects an epoch larger than rpm and dpkg accept', () => {
    assert.throws(
      () => toRpmVersion(`${MAX_EPOCH + 1}!1.0`),
      (error: unknown) => error instanceof InputError && /epoch 2147483648 is larger than 2147483647/.test(error.message),
    );
    assert.throws(() => toDebianVersion('99999999999999!1.0'), InputError);
  });

  it('rejects numbers too large to compare exactly (outside local labels)', () => {
    for (const input of ['1.9007199254740993', '1.0a99999999999999999', '1.0.post99999999999999999', '1.0.dev99999999999999999']) {
      assert.throws(
        () => toDebianVersion(input),
        (error: unknown) => error instanceof InputError && error.message.includes(input) && /cannot be compared exactly/.test(error.message),
      );
    }
    assert.equal(toRpmVersion('1.9007199254740991').version, '1.9007199254740991');
  });
});

describe('encoding tags', () => {
  const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  it('orders the pre-release tags a < b < rc by ASCII (what rpm and dpkg compare)', () => {
    assert.equal(ascii(PRE_RELEASE_TAGS.a, PRE_RELEASE_TAGS.b), -1);
    assert.equal(ascii(PRE_RELEASE_TAGS.b, PRE_RELEASE_TAGS.rc), -1);
    for (const tag of Object.values(PRE_RELEASE_TAGS)) assert.match(tag, /^[a-z]+$/);
  });

  it('puts the local marker below the post-release tag', () => {
    assert.equal(ascii(LOCAL_TAG, POST_TAG), -1);
    assert.match(LOCAL_TAG, /^\+[a-z]+$/);
    assert.match(POST_TAG, /^\+[a-z]+$/);
  });

  it('opens dev releases with tildes, a lone one with two', () => {
    assert.match(DEV_TAG, /^~[a-z]+$/);
    assert.match(DEV_ONLY_TAG, /^~~[a-z]+$/);
  });
});
