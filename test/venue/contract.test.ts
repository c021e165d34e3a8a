import { venueContractSuite } from './contract';
import { kalshiUnderTest, paperUnderTest } from '../../testkit/venue-harness';

venueContractSuite('paper exchange', paperUnderTest);
venueContractSuite('Kalshi double', kalshiUnderTest);
