/**
 * The int8 calibration stills are pinned. They are sample stills (src/sources/sample/),
 * standardised; their pixels decide every int8 model's activation scales and, through
 * CALIBRATION_STILLS_SHA256, key the cached int8 model (build.ts). A change to the sample
 * generator that moves them fails here, instead of silently changing int8 features.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CALIBRATION,
  CALIBRATION_STILLS_SHA256,
  calibrationStills,
  checkCalibrationStills,
  stillsSha256,
} from '../../src/embed/vgg16/int8.js';
import { AtlasError } from '../../src/errors.js';
import { STILL_HEIGHT, STILL_WIDTH } from '../../src/imaging/standardise.js';
import { planSample, renderSampleStill } from '../../src/sources/sample/index.js';
import type { RawImage } from '../../src/types.js';

let made: Promise<RawImage[]> | undefined;
/** The calibration stills, made once for the tests that need them (a few seconds). */
const stills = (): Promise<RawImage[]> => (made ??= calibrationStills());

test('the 48 calibration stills, in order, hash to the pinned CALIBRATION_STILLS_SHA256', async () => {
  const all = await stills();
  assert.equal(all.length, CALIBRATION.movies * CALIBRATION.stillsPerMovie);
  assert.equal(all.length, 48);
  for (const s of all) {
    assert.deepEqual([s.width, s.height, s.channels], [STILL_WIDTH, STILL_HEIGHT, 3]);
    assert.equal(s.data.length, STILL_WIDTH * STILL_HEIGHT * 3);
  }
  assert.match(CALIBRATION_STILLS_SHA256, /^[0-9a-f]{64}$/);
  const got = stillsSha256(all);
  assert.equal(
    got,
    CALIBRATION_STILLS_SHA256,
    `the int8 calibration stills changed (sha256 ${got}): the sample generator or standardisation moved ` +
      'their pixels. If that is meant, set CALIBRATION_STILLS_SHA256 in src/embed/vgg16/int8.ts to the new ' +
      'hash (int8 models are then calibrated again, under the new key)',
  );
  assert.doesNotThrow(() => checkCalibrationStills(all));
  // Made again after other sample stills (another seed and size), they are the same: nothing
  // the generator caches between calls (noise tile, grain table, prepared looks) leaks into them.
  for (const movie of planSample({ seed: 3, movies: 3, width: 200, families: 3 }))
    renderSampleStill(movie, 2);
  assert.equal(stillsSha256(await calibrationStills()), CALIBRATION_STILLS_SHA256);
});

test('stills that hash otherwise are refused (CHECKSUM), naming both hashes; every pixel, the order and the count matter', async () => {
  const all = await stills();
  const onePixel = all.map((s) => ({ ...s, data: s.data.slice() }));
  onePixel[47].data[STILL_WIDTH * 3 * 60 + 100] ^= 1;
  const got = stillsSha256(onePixel);
  assert.notEqual(got, CALIBRATION_STILLS_SHA256);
  assert.throws(
    () => checkCalibrationStills(onePixel),
    (e: unknown) => {
      assert.ok(e instanceof AtlasError);
      assert.equal(e.code, 'CHECKSUM');
      assert.equal(e.value, got);
      assert.match(
        e.message,
        new RegExp(`hash to sha256 ${got}, not the pinned ${CALIBRATION_STILLS_SHA256}`),
      );
      assert.match(
        e.suggestion ?? '',
        new RegExp(`CALIBRATION_STILLS_SHA256 in src/embed/vgg16/int8\\.ts to ${got}`),
      );
      assert.match(e.suggestion ?? '', /--precision fp32/);
      return true;
    },
  );
  const swapped = [all[1], all[0], ...all.slice(2)];
  assert.notEqual(stillsSha256(swapped), CALIBRATION_STILLS_SHA256);
  assert.throws(() => checkCalibrationStills(swapped), /calibration stills changed/);
  assert.notEqual(stillsSha256(all.slice(0, 47)), CALIBRATION_STILLS_SHA256);
  // The same bytes read as another size are other stills.
  const reshaped = all.map((s) => ({ ...s, width: s.height, height: s.width }));
  assert.notEqual(stillsSha256(reshaped), CALIBRATION_STILLS_SHA256);
});
