// Taken from package.json so the User-Agent names the running build.
import { version } from '../package.json';

export const VERSION: string = version;
