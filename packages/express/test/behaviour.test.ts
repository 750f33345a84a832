import express5 from 'express'
import express4 from 'express4'
import { httpBindingSuite } from '@herd/testing/http-suite'
import { expressDriver } from './driver.js'

// The behaviour every herdCache binding shares (@herd/testing/http-suite), on both Express majors.
httpBindingSuite([expressDriver('Express 5', express5), expressDriver('Express 4', express4 as unknown as typeof express5)])
