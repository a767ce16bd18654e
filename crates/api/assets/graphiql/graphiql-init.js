// Starts GraphiQL against this server: queries and mutations over POST /graphql, subscriptions
// over /graphql/ws. Put {"Authorization": "Bearer <token>"} in the Headers tab: it is sent with
// every query and mutation.
(function () {
  var http = new URL('/graphql', window.location.href);
  var socket = new URL('/graphql/ws', window.location.href);
  socket.protocol = socket.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: http.toString(),
    subscriptionUrl: socket.toString(),
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
