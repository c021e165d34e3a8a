import { venueContractSuite } from './contract';
import { kalshiUnderTest, paperUnderTest } from './harness';

venueContractSuite('paper exchange', paperUnderTest);
venueContractSuite('Kalshi double', kalshiUnderTest);
