// Not a sample: the driver the @herd/testing sample (testing-http-suite.ts) imports, @herd/express's own.
export { expressDriver } from '../../../packages/express/test/driver.js'
