// Value formatters of the aiida-ssb tables (numbers to four significant digits, missing values empty).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

dagfuncs.ssbNumber = function (value) {
  if (value === undefined || value === null || value === '') {
    return '';
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < 1e6) {
      return String(value);
    }
    return Number(value.toPrecision(4)).toString();
  }
  return String(value);
};
