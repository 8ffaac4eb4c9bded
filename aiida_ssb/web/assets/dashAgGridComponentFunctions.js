// Cell renderers of the aiida-ssb tables. A sample id is put in the page as text (React escapes it) and in
// its link's path with encodeURIComponent, so no id can inject markup or change the link's target.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.SampleLink = function (props) {
  if (props.value === undefined || props.value === null) {
    return null;
  }
  var text = String(props.value);
  return React.createElement('a', {href: '/sample/' + encodeURIComponent(text), className: 'sample-link'}, text);
};
