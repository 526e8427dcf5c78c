// Flattening OCSF records to dotted paths, arrays, and already-flattened inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compileNestedReader,
  compilePathGetter,
  compilePathGetters,
  flattenRecord,
  hasFlatKeys,
  pathSegments,
} from '../../src/data/flatten.ts';
import { columnNameToPath, ocsfKind, underscoredName } from '../../src/data/ocsf-paths.ts';
import { ocsfLikeEvents } from '../fixtures/data/ocsf-like.ts';

const EVENT = {
  class_uid: 4002,
  actor: { user: { name: 'alice', groups: ['admins', 'ops'] } },
  observables: [
    { name: 'ip', value: '10.0.0.1' },
    { name: 'user', value: 'alice' },
  ],
  resources: [],
  metadata: { uid: 'e1', original_time: null },
  big: 12345678901234567890n,
  when: new Date(1709550000000),
};

test('flattenRecord: dotted paths, array count + first element, nulls dropped, Dates and bigints converted', () => {
  assert.deepEqual(flattenRecord(EVENT), {
    class_uid: 4002,
    'actor.user.name': 'alice',
    'actor.user.groups.count': 2,
    'actor.user.groups[0]': 'admins',
    'observables.count': 2,
    'observables[0].name': 'ip',
    'observables[0].value': '10.0.0.1',
    'resources.count': 0,
    'metadata.uid': 'e1',
    big: '12345678901234567890',
    when: 1709550000000,
  });
});

test('already-flattened names map onto OCSF paths only where unambiguous', () => {
  assert.equal(columnNameToPath('actor_user_name'), 'actor.user.name');
  assert.equal(columnNameToPath('src_endpoint_ip'), 'src_endpoint.ip');
  assert.equal(columnNameToPath('http_request_url_path'), 'http_request.url.path');
  assert.equal(columnNameToPath('http_request_user_agent'), 'http_request.user_agent');
  assert.equal(columnNameToPath('class_uid'), 'class_uid');
  assert.equal(columnNameToPath('my_custom_field'), 'my_custom_field');
  assert.equal(columnNameToPath('actor.user.name'), 'actor.user.name');
  assert.equal(underscoredName('traffic.bytes_in'), 'traffic_bytes_in');
  assert.equal(ocsfKind('traffic.bytes_in'), 'number');
  assert.deepEqual(flattenRecord({ actor_user_name: 'bob', class_uid: 1 }), {
    'actor.user.name': 'bob',
    class_uid: 1,
  });
  assert.deepEqual(flattenRecord({ actor: { user: { name: 'nested' } }, 'actor.user.name': 'flat' }), {
    'actor.user.name': 'nested',
  });
});

test('compiled getters read every record form the way flattenRecord does', () => {
  const forms: object[] = [
    EVENT,
    flattenRecord(EVENT),
    { 'actor.user': { name: 'alice', groups: ['admins'] }, observables: [{ name: 'ip' }] },
    { actor_user_name: 'alice', 'observables[0].name': 'ip', 'actor.user.groups.count': 2 },
  ];
  for (const rec of forms) {
    const flat = flattenRecord(rec);
    for (const path of [
      'actor.user.name',
      'observables[0].name',
      'actor.user.groups.count',
      'class_uid',
      'nope.x',
    ]) {
      const v = compilePathGetter(path)(rec);
      assert.equal(
        v,
        flat[path],
        `${path} in ${JSON.stringify(rec, (_, x) => (typeof x === 'bigint' ? String(x) : x))}`,
      );
    }
  }
  assert.equal(hasFlatKeys(EVENT), false);
  assert.equal(hasFlatKeys({ actor_user_name: 'a' }), true);
  assert.deepEqual(pathSegments('a.b[0][0].c'), ['a', 'b', '[0]', '[0]', 'c']);
});

test('the multi-path nested reader agrees with single-path getters', () => {
  const records: object[] = [
    ...ocsfLikeEvents(300, 5),
    EVENT,
    { observables: { count: 7, '[0]': 'x' }, actor: 'text', http_request: null },
    { observables: [[1, 2]], actor: { user: [] } },
  ];
  const paths = [...new Set(records.flatMap((r) => Object.keys(flattenRecord(r))))];
  paths.push(
    'observables.count',
    'observables[0]',
    'actor.user',
    'actor.user.count',
    'observables[0][0]',
    'x.y.z',
  );
  const unique = [...new Set(paths)];
  const read = compileNestedReader(unique);
  const getters = unique.map((p) => compilePathGetters(p).nested);
  const out: unknown[] = new Array(unique.length).fill('stale');
  for (const r of records) {
    assert.equal(read(r, out), true);
    for (const [i, p] of unique.entries()) assert.equal(out[i], getters[i]!(r), p);
  }
  // Keys objects inherit are read only where a record holds them; flat keys at the top make the reader decline.
  const inherited = compileNestedReader(['constructor', 'a.toString', 'a.valueOf.x', 'a.b']);
  const got: unknown[] = [];
  assert.equal(inherited({ a: { b: 1 } }, got), true);
  assert.deepEqual(got, [undefined, undefined, undefined, 1]);
  assert.equal(
    inherited(JSON.parse('{"constructor":"c","a":{"toString":"t","valueOf":{"x":2}}}'), got),
    true,
  );
  assert.deepEqual(got, ['c', 't', 2, undefined]);
  assert.equal(inherited({ a: { b: 1 }, 'a.b': 2 }, got), false);
  assert.equal(inherited({ actor_user_name: 'x' }, got), false);
});
