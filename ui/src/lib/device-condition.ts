// Issue 15.6: when a detector's battery or signal deserves a look — the kiosk marker's small icons
// and the device page's warnings share these. Below 20 % is DEV-4's "battery low" (error code 10);
// a cellular RSSI of −100 dBm or less is where readings start to get lost.
export const LOW_BATTERY_PCT = 20;
export const WEAK_SIGNAL_DBM = -100;

export const isLowBattery = (bat: number | null | undefined): boolean => bat !== null && bat !== undefined && bat < LOW_BATTERY_PCT;
export const isWeakSignal = (rssi: number | null | undefined): boolean => rssi !== null && rssi !== undefined && rssi <= WEAK_SIGNAL_DBM;
