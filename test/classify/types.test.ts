import t from 'tap';
import { maxTier, isTier, tierRank } from '../../src/classify/types.js';

t.test('maxTier takes the most restrictive tier and never the reverse', async (t) => {
  t.equal(maxTier('PUBLIC', 'PROPRIETARY'), 'PROPRIETARY');
  t.equal(maxTier('PROPRIETARY', 'PUBLIC'), 'PROPRIETARY');
  t.equal(maxTier('INTERNAL', 'PUBLIC'), 'INTERNAL');
  t.equal(maxTier(), 'PUBLIC');
  t.ok(tierRank('PUBLIC') < tierRank('INTERNAL'));
  t.ok(isTier('INTERNAL'));
  t.notOk(isTier('SECRET'));
});
