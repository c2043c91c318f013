import t from 'tap'
import { testApp } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

t.test('customize asks for the cluster\'s StatefulSet by name, in its namespace only', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const { controller, parent } = body(parentFrom('simple.yaml', 'team-a'))
  const res = await app.inject({ method: 'POST', url: '/customize', payload: { controller, parent } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    relatedResources: [{ apiVersion: 'apps/v1', resource: 'statefulsets', namespace: 'team-a', names: ['promcluster-simple-prometheus-instance'] }]
  }, 'nothing Metacontroller v2 would reject')
})

t.test('customize refuses a parent without a namespace or with a bad name, naming the field', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const { parent } = body(parentFrom('simple.yaml'))
  for (const [mutate, field] of [
    [(p: typeof parent) => delete p.metadata.namespace, /parent\.metadata\.namespace/],
    [(p: typeof parent) => (p.metadata.name = 'Not A Name'), /parent\.metadata\.name/]
  ] as const) {
    const bad = structuredClone(parent)
    mutate(bad)
    const res = await app.inject({ method: 'POST', url: '/customize', payload: { parent: bad } })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'InvalidRequest', message: field })
  }
})
