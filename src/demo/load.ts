// Demo data for the embedded default, loaded once into an empty database.
import { logger } from '../logger.js';

export async function loadDemoData(): Promise<void> {
  logger.debug('no demo data yet');
}
