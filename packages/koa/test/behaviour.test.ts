import Koa3 from 'koa'
import Koa2 from 'koa2'
import { httpBindingSuite } from '@herd/testing/http-suite'
import { koaDriver } from './driver.js'

// The behaviour every herdCache binding shares (@herd/testing/http-suite), on both Koa majors.
httpBindingSuite([koaDriver('Koa 3', Koa3), koaDriver('Koa 2', Koa2 as unknown as typeof Koa3)])
