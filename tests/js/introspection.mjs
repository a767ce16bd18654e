// Sends graphql-js's standard introspection query (what GraphiQL, GraphQL Code Generator, Apollo
// Rover, Postman and Insomnia send) to a councilflow server, and builds a client schema from the
// answer, as those tools do. Prints one JSON line: the answer's errors, or what the schema holds.
//
// usage: node introspection.mjs <graphql url> <bearer token>
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';

const [url, token] = process.argv.slice(2);
const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const response = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
});
const answer = await response.json();
if (answer.errors) {
  console.log(JSON.stringify({ errors: answer.errors }));
  process.exit(0);
}
const schema = buildClientSchema(answer.data);
const sdl = printSchema(schema);
console.log(JSON.stringify({
  queryBytes: query.length,
  types: Object.keys(schema.getTypeMap()).length,
  mutations: Object.keys(schema.getMutationType().getFields()),
  hasPlan: sdl.includes('type Plan {'),
}));
