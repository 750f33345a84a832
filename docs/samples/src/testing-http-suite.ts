// test/behaviour.test.ts
import { httpBindingSuite } from '@herd/testing/http-suite'
import express from 'express'
import { expressDriver } from './driver.js' // see packages/express/test/driver.ts

httpBindingSuite([expressDriver('Express 5', express)])
