import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { TableId } from '../../functions/deployment.ts';
import {
  type GlobalIndexDefinition,
  type KeyAttribute,
  type TableDefinition,
  tables,
} from '../../functions/store-schema.ts';

const attribute = (key: KeyAttribute) => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

/**
 * The DynamoDB tables of functions/store-schema.ts, one per definition, so a table added there
 * is deployed without touching the stack. Users and their tokens are the one thing that cannot
 * be rebuilt: on-demand capacity, point-in-time recovery, deletion protection, and `RETAIN` so
 * that deleting the stack never deletes a user.
 */
export class UserDirectory extends Construct {
  readonly tables: ReadonlyMap<TableId, Table>;

  constructor(scope: Construct, id: string, definitions: readonly TableDefinition[] = tables) {
    super(scope, id);
    this.tables = new Map(definitions.map((definition) => [definition.id, this.table(definition)]));
  }

  private table(definition: TableDefinition): Table {
    const table = new Table(this, `Table-${definition.id}`, {
      partitionKey: attribute(definition.partitionKey),
      ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
    });
    for (const index of definition.globalIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        ...projectionOf(index.projection),
      });
    }
    return table;
  }
}

function projectionOf(projection: GlobalIndexDefinition['projection']) {
  if (projection === 'ALL') return { projectionType: ProjectionType.ALL };
  if (projection === 'KEYS_ONLY') return { projectionType: ProjectionType.KEYS_ONLY };
  return { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projection.include] };
}
