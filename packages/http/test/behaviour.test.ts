import { httpBindingSuite } from '@herd/testing/http-suite'
import { nodeDriver } from './node-driver.js'

// The behaviour every herdCache binding shares (@herd/testing/http-suite), on the plain node:http binding.
httpBindingSuite(nodeDriver)
