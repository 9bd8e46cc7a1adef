import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, formatSize, totalsOf, type PublishReport, type UpgradedPackage } from '../../src/publish/report.ts';

const upgraded: UpgradedPackage[] = [
  {
    name: 'demo-wheel-textfmt',
    arch: 'noarch',
    oldVersions: ['1.1-2', '1.0-1'],
    newVersion: '1.2-3',
    file: 'Packages/demo-wheel-textfmt-1.2-3.noarch.rpm',
    fullSize: 10240,
    deltas: [
      { fromVersion: '1.1-2', file: 'drpms/a.drpm', size: 1024, ratio: 0.1, created: true },
      { fromVersion: '1.0-1', file: 'drpms/b.drpm', size: 2048, ratio: 0.2, created: true },
    ],
  },
  { name: 'demo-runtime', arch: 'noarch', oldVersions: ['0.1-1'], newVersion: '0.1-2', file: 'Packages/demo-runtime-0.1-2.noarch.rpm', fullSize: 20480, deltas: [] },
];

const report: PublishReport = {
  format: 'rpm',
  reqset: 'demo',
  target: 'el9-py311',
  repo: '/srv/repo',
  changed: true,
  signed: true,
  keep: 2,
  added: [],
  upgraded,
  pruned: [{ name: 'demo-wheel-textfmt', version: '0.9-1', arch: 'noarch', file: 'Packages/x.rpm', size: 1 }],
  warnings: ['delta demo-runtime 0.1-1 -> 0.1-2 not published: not smaller'],
  totals: totalsOf(upgraded),
};

describe('publish report', () => {
  it('totals count the delta from the previous version, or the full package without one', () => {
    assert.deepEqual(report.totals, { upgraded: 2, fullSize: 30720, updateSize: 1024 + 20480, ratio: 21504 / 30720, deltas: 2 });
    assert.deepEqual(totalsOf([]), { upgraded: 0, fullSize: 0, updateSize: 0, ratio: 1, deltas: 0 });
  });

  it('prints one row per delta with full size, delta size and ratio, and a total (golden)', () => {
    assert.equal(
      formatReport(report),
      [
        'rpm repository /srv/repo: published demo (el9-py311): 0 packages added, 2 upgraded, 1 pruned, 2 deltas, signed',
        '',
        'package                                 from   to         full     delta  ratio',
        'demo-wheel-textfmt                      1.1-2  1.2-3  10.0 KiB   1.0 KiB  10.0%',
        '                                        1.0-1                    2.0 KiB  20.0%',
        'demo-runtime                            0.1-1  0.1-2  20.0 KiB         -      -',
        'total (2 packages, one version behind)                30.0 KiB  21.0 KiB  70.0%',
        '',
        'pruned (more than 2 older versions kept): demo-wheel-textfmt-0.9-1',
        'warning: delta demo-runtime 0.1-1 -> 0.1-2 not published: not smaller',
        '',
      ].join('\n'),
    );
  });

  it('apt reports have sizes only; an unchanged publish says so', () => {
    const deb: PublishReport = { ...report, format: 'deb', signed: false, pruned: [], warnings: [], upgraded: [upgraded[1]!], totals: totalsOf([upgraded[1]!]) };
    assert.equal(
      formatReport(deb),
      [
        'apt repository /srv/repo: published demo (el9-py311): 0 packages added, 1 upgraded, 0 pruned',
        '',
        'package            from   to         size',
        'demo-runtime       0.1-1  0.1-2  20.0 KiB',
        'total (1 package)                20.0 KiB',
        '',
      ].join('\n'),
    );
    const same: PublishReport = { ...deb, changed: false, upgraded: [], totals: totalsOf([]) };
    assert.equal(formatReport(same), 'apt repository /srv/repo: unchanged, the packages of demo (el9-py311) are already published\n');
  });

  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  it('sizes', () => {
    assert.equal(formatSize(999), '999 B');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(5 * 1024 * 1024), '5.0 MiB');
  });
});
