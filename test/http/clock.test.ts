// The wall clock the hook stamps condition transitions with (src/app.ts): whole seconds, so
// answers are byte-stable within a second, formatted once a second rather than per call.
import t from 'tap'
import { wallClockSeconds } from '../../src/app.js'

t.test("the hook's clock: whole seconds, formatted once a second", async (t) => {
  let ms = Date.UTC(2026, 0, 2, 3, 4, 5, 999)
  const now = wallClockSeconds(() => ms)
  t.equal(now(), '2026-01-02T03:04:05Z')
  ms += 1
  t.equal(now(), '2026-01-02T03:04:06Z')
  ms += 998
  t.equal(now(), '2026-01-02T03:04:06Z')
})
